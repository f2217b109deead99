import type { NcpCredentialConfig } from "../../../src/drivers/ncp/ncp-config.js";
import type { ProviderDrivers } from "../../../src/drivers/driver.js";
import type { ClusterOf } from "../../../src/core/registered-cluster.js";
import { ncpProvider } from "../../../src/drivers/ncp/ncp-provider.js";
import { startFakeNcp } from "../../fakes/fake-ncp.js";
import { FakeClock } from "../../support/fake-clock.js";
import { testCaData } from "../../support/test-config.js";
import { runConformance } from "../drivertest.js";

const keys = { accessKey: "NCPCONFORMANCEKEY001", secretKey: "ncp-conformance-secret-0123456789abcdef" };
const readonlyKeys = { accessKey: "NCPCONFORMANCEKEY002", secretKey: "ncp-conformance-readonly-0123456789abcd" };
process.env.CTS_CONF_NCP_ACCESS = keys.accessKey;
process.env.CTS_CONF_NCP_SECRET = keys.secretKey;
process.env.CTS_CONF_NCP_RO_ACCESS = readonlyKeys.accessKey;
process.env.CTS_CONF_NCP_RO_SECRET = readonlyKeys.secretKey;
const uuids = {
  alpha: "0A1B2C3D-0000-4000-8000-00000000000A",
  beta: "0A1B2C3D-0000-4000-8000-00000000000B",
  gamma: "0A1B2C3D-0000-4000-8000-00000000000C",
};

runConformance<ClusterOf<"ncp">>({
  name: "NAVER Cloud NKS",
  async setUp() {
    const clock = new FakeClock();
    const ncp = await startFakeNcp({
      clock,
      keys: { [keys.accessKey]: keys.secretKey, [readonlyKeys.accessKey]: readonlyKeys.secretKey },
      clusters: {
        [uuids.alpha]: { region: "KR", server: "https://alpha.kr.vnks.ntruss.com", caData: testCaData },
        [uuids.beta]: { region: "KR", server: "https://beta.kr.vnks.ntruss.com", caData: testCaData },
      },
    });
    const credentials: Record<string, NcpCredentialConfig> = {
      issuer: { provider: "ncp", accessKey: { env: "CTS_CONF_NCP_ACCESS" }, secretKey: { env: "CTS_CONF_NCP_SECRET" } },
      broken: { provider: "ncp", accessKey: { env: "CTS_CONF_NCP_ACCESS" }, secretKey: { env: "CTS_CONF_NCP_UNSET" } },
      // Another sub account's key pair.
      readonly: { provider: "ncp", accessKey: { env: "CTS_CONF_NCP_RO_ACCESS" }, secretKey: { env: "CTS_CONF_NCP_RO_SECRET" } },
    };
    const cluster = (id: string, uuid: string, creds = "issuer"): ClusterOf<"ncp"> => ({
      id,
      provider: "ncp",
      region: "KR",
      uuid,
      name: "",
      displayName: "",
      labels: {},
      credentials: creds,
      apiEndpoint: ncp.url,
    });
    return {
      clock,
      provider: ncpProvider,
      newDrivers: () =>
        ncpProvider.create(credentials, { upstreamTimeoutMs: 10_000, clock }) as Required<ProviderDrivers<ClusterOf<"ncp">>>,
      clusterA: cluster("alpha-nks", uuids.alpha),
      clusterB: cluster("beta-nks", uuids.beta),
      missingCluster: cluster("gamma-nks", uuids.gamma),
      unresolvableCluster: cluster("broken-nks", uuids.alpha, "broken"),
      identities: { own: keys.accessKey, other: readonlyKeys.accessKey, credentials: "readonly" },
      verify: (token, c) => ncp.verifyNksToken(token, c.uuid),
      bindsTokensToCluster: true,
      lifetimeMs: { min: 4 * 60_000 - 2_000, max: 4 * 60_000 },
      expectedAccessA: { server: "https://alpha.kr.vnks.ntruss.com", certificateAuthorityData: testCaData },
      describeUpstream: ncp,
      secrets: [keys.secretKey, readonlyKeys.secretKey],
      close: () => ncp.close(),
    };
  },
});
