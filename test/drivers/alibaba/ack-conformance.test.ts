import type { ClusterOf } from "../../../src/core/registered-cluster.js";
import type { AlibabaCredentialConfig } from "../../../src/drivers/alibaba/alibaba-config.js";
import { alibabaProvider } from "../../../src/drivers/alibaba/alibaba-provider.js";
import type { ProviderDrivers } from "../../../src/drivers/driver.js";
import { startFakeAlibaba } from "../../fakes/fake-alibaba.js";
import { FakeClock } from "../../support/fake-clock.js";
import { testCaData } from "../../support/test-config.js";
import { runConformance } from "../drivertest.js";

const keys = { accessKeyId: "LTAI5tConformanceKey01", accessKeySecret: "alibaba-conformance-secret-0123456789" };
process.env.CTS_CONF_ALI_ID = keys.accessKeyId;
process.env.CTS_CONF_ALI_SECRET = keys.accessKeySecret;
const roleArn = "acs:ram::1234567890123456:role/cluster-token-issuer";
const readonlyRoleArn = "acs:ram::1234567890123456:role/cluster-token-readonly";

runConformance<ClusterOf<"alibaba">>({
  name: "Alibaba Cloud ACK",
  async setUp() {
    const clock = new FakeClock();
    const ali = await startFakeAlibaba({
      clock,
      keys: { [keys.accessKeyId]: keys.accessKeySecret },
      roles: {
        [roleArn]: { trustedKeys: [keys.accessKeyId], externalId: "team-platform" },
        [readonlyRoleArn]: { trustedKeys: [keys.accessKeyId] },
      },
      clusters: {
        c0alpha00000000000000000000000001: { server: "https://alpha.ack.example.com:6443", caData: testCaData },
        c0beta000000000000000000000000002: { server: "https://beta.ack.example.com:6443", caData: testCaData },
      },
    });
    const base = { provider: "alibaba" as const, roleSessionName: "conformance", durationSeconds: 3600, stsEndpoint: ali.sts.url };
    const credentials: Record<string, AlibabaCredentialConfig> = {
      // Through an assumed role, so that minting calls STS and meets its faults.
      issuer: {
        ...base,
        accessKeyId: { env: "CTS_CONF_ALI_ID" },
        accessKeySecret: { env: "CTS_CONF_ALI_SECRET" },
        roleArn,
        externalId: "team-platform",
      },
      broken: { ...base, accessKeyId: { env: "CTS_CONF_ALI_ID" }, accessKeySecret: { env: "CTS_CONF_ALI_UNSET" }, roleArn },
      readonly: {
        ...base,
        accessKeyId: { env: "CTS_CONF_ALI_ID" },
        accessKeySecret: { env: "CTS_CONF_ALI_SECRET" },
        roleArn: readonlyRoleArn,
      },
    };
    const cluster = (id: string, clusterId: string, creds = "issuer"): ClusterOf<"alibaba"> => ({
      id,
      provider: "alibaba",
      region: "cn-hangzhou",
      clusterId,
      name: "",
      displayName: "",
      labels: {},
      credentials: creds,
      apiEndpoint: ali.cs.url,
    });
    return {
      clock,
      provider: alibabaProvider,
      newDrivers: () =>
        alibabaProvider.create(credentials, { upstreamTimeoutMs: 10_000, clock }) as Required<ProviderDrivers<ClusterOf<"alibaba">>>,
      clusterA: cluster("alpha-ack", "c0alpha00000000000000000000000001"),
      clusterB: cluster("beta-ack", "c0beta000000000000000000000000002"),
      missingCluster: cluster("gamma-ack", "c0gamma00000000000000000000000003"),
      unresolvableCluster: cluster("broken-ack", "c0alpha00000000000000000000000001", "broken"),
      identities: { own: roleArn, other: readonlyRoleArn, credentials: "readonly" },
      verify: (token, c) => ali.verifyAckToken(token, c.clusterId),
      bindsTokensToCluster: true,
      lifetimeMs: { min: 10 * 60_000 - 2_000, max: 10 * 60_000 },
      expectedAccessA: { server: "https://alpha.ack.example.com:6443", certificateAuthorityData: testCaData },
      mintUpstream: ali.sts,
      describeUpstream: ali.cs,
      secrets: [keys.accessKeySecret],
      close: () => ali.close(),
    };
  },
});
