import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GcpCredentialConfig } from "../../../src/drivers/gcp/gcp-config.js";
import type { ProviderDrivers } from "../../../src/drivers/driver.js";
import type { ClusterOf } from "../../../src/core/registered-cluster.js";
import { gcpProvider } from "../../../src/drivers/gcp/gcp-provider.js";
import { createTestServiceAccount, startFakeGcp } from "../../fakes/fake-gcp.js";
import { FakeClock } from "../../support/fake-clock.js";
import { testCaData } from "../../support/test-config.js";
import { runConformance } from "../drivertest.js";

runConformance<ClusterOf<"gcp">>({
  name: "Google GKE",
  async setUp() {
    // google-auth-library signs its JWT assertion by the wall clock and takes no clock, so Google's fake clock starts
    // there; the driver's expiries follow the fake clock from then on.
    const clock = new FakeClock(Date.now());
    const account = createTestServiceAccount("token-issuer@proj-conformance.iam.gserviceaccount.com");
    const readonly = "readonly@proj-conformance.iam.gserviceaccount.com";
    const gcp = await startFakeGcp({
      clock,
      serviceAccounts: [account],
      impersonation: { [readonly]: [account.email] },
      clusters: {
        "proj-conformance/us-central1/alpha": { endpoint: "34.1.2.3", caData: testCaData },
        "proj-conformance/us-central1/beta": { endpoint: "34.1.2.4", caData: testCaData },
      },
    });
    const keyFile = join(await mkdtemp(join(tmpdir(), "cts-gke-")), "key.json");
    await writeFile(keyFile, account.keyFile, { mode: 0o600 });
    const credentials: Record<string, GcpCredentialConfig> = {
      issuer: { provider: "gcp", serviceAccountKey: { file: keyFile }, tokenEndpoint: gcp.tokenUrl },
      readonly: {
        provider: "gcp",
        serviceAccountKey: { file: keyFile },
        tokenEndpoint: gcp.tokenUrl,
        impersonateServiceAccount: readonly,
        iamCredentialsEndpoint: gcp.url,
      },
      broken: { provider: "gcp", serviceAccountKey: { env: "CTS_CONF_GCP_UNSET" }, tokenEndpoint: gcp.tokenUrl },
    };
    const cluster = (id: string, name: string, creds = "issuer"): ClusterOf<"gcp"> => ({
      id,
      provider: "gcp",
      project: "proj-conformance",
      region: "us-central1",
      name,
      displayName: "",
      labels: {},
      credentials: creds,
      apiEndpoint: gcp.url,
    });
    return {
      clock,
      provider: gcpProvider,
      newDrivers: () =>
        gcpProvider.create(credentials, { upstreamTimeoutMs: 10_000, clock }) as Required<ProviderDrivers<ClusterOf<"gcp">>>,
      clusterA: cluster("alpha-gke", "alpha"),
      clusterB: cluster("beta-gke", "beta"),
      missingCluster: cluster("gamma-gke", "gamma"),
      unresolvableCluster: cluster("broken-gke", "alpha", "broken"),
      identities: { own: account.email, other: readonly, credentials: "readonly" },
      verify: (token) => gcp.verifyAccessToken(token),
      // A GKE access token authenticates an identity, not a cluster.
      bindsTokensToCluster: false,
      lifetimeMs: { min: 3599_000 - 5_000, max: 3599_000 },
      expectedAccessA: { server: "https://34.1.2.3", certificateAuthorityData: testCaData },
      mintUpstream: gcp,
      describeUpstream: gcp,
      secrets: [JSON.parse(account.keyFile).private_key as string],
      close: () => gcp.close(),
    };
  },
});
