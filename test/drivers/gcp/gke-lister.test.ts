import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClusterLister } from "../../../src/drivers/cluster-lister.js";
import type { GcpAccount, GcpCredentialConfig } from "../../../src/drivers/gcp/gcp-config.js";
import { gcpProvider } from "../../../src/drivers/gcp/gcp-provider.js";
import { createTestServiceAccount, startFakeGcp } from "../../fakes/fake-gcp.js";
import { FakeClock } from "../../support/fake-clock.js";
import { testCaData } from "../../support/test-config.js";
import { runListerConformance } from "../listertest.js";

const projectOf = (scope: string) => scope.slice(0, scope.indexOf("/"));

runListerConformance<GcpAccount>({
  name: "Google GKE",
  async setUp() {
    // google-auth-library signs its JWT assertion by the wall clock and takes no clock, so Google's fake clock starts there.
    const clock = new FakeClock(Date.now());
    const serviceAccount = createTestServiceAccount("cluster-lister@proj-lister-one.iam.gserviceaccount.com");
    const gcp = await startFakeGcp({ clock, serviceAccounts: [serviceAccount], clusters: {} });
    const keyFile = join(await mkdtemp(join(tmpdir(), "cts-gke-lister-")), "key.json");
    await writeFile(keyFile, serviceAccount.keyFile, { mode: 0o600 });
    const credentials: Record<string, GcpCredentialConfig> = {
      lister: { provider: "gcp", serviceAccountKey: { file: keyFile }, tokenEndpoint: gcp.tokenUrl },
      broken: { provider: "gcp", serviceAccountKey: { env: "CTS_LISTER_GCP_UNSET" }, tokenEndpoint: gcp.tokenUrl },
    };
    const account: GcpAccount = {
      id: "acme",
      provider: "gcp",
      credentials: "lister",
      projects: ["proj-lister-one", "proj-lister-two"],
      locations: ["-"],
      tags: {},
      pollSeconds: 300,
      idTemplate: "{name}.{region}.{account}",
      apiEndpoint: gcp.url,
    };
    return {
      clock,
      provider: gcpProvider,
      newLister: () => gcpProvider.create(credentials, { upstreamTimeoutMs: 10_000, clock }).lister as ClusterLister<GcpAccount>,
      account,
      brokenAccount: { ...account, credentials: "broken" },
      fake: {
        server: gcp,
        addCluster(scope, name, labels = {}) {
          gcp.addCluster(projectOf(scope), "europe-west1-b", name, { endpoint: "34.1.2.3", caData: testCaData, labels: { ...labels } });
          return "europe-west1-b";
        },
        removeCluster: (scope, name) => gcp.removeCluster(projectOf(scope), "europe-west1-b", name),
        failPage() {
          throw new Error("GKE's list has no pages");
        },
        denyScope: (scope) => gcp.denyProject(projectOf(scope)),
        partialScope: (scope) => gcp.missingZones(projectOf(scope), ["europe-west1-c"]),
        apiRequests: () => gcp.calls.list + gcp.calls.get,
        reset: () => gcp.reset(),
      },
      // One request per project and location, whatever it holds.
      requestsPerListing: () => 1,
      // clusters.get in each project until one has it.
      maxRequestsPerLookup: account.projects.length,
      secrets: [JSON.parse(serviceAccount.keyFile).private_key as string],
      close: () => gcp.close(),
    };
  },
});
