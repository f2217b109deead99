import type { GcpAccount } from "../../../src/drivers/gcp/gcp-config.js";
import { gcpProvider } from "../../../src/drivers/gcp/gcp-provider.js";
import { testCaData } from "../../support/test-config.js";
import { runListerConformance } from "../listertest.js";
import { startGkeListerFixture } from "./gke-lister-fixture.js";

const projectOf = (scope: string) => scope.slice(0, scope.indexOf("/"));
const location = "europe-west1-b";

runListerConformance<GcpAccount>({
  name: "Google GKE",
  async setUp() {
    const { clock, gcp, serviceAccount, account, lister, close } = await startGkeListerFixture();
    return {
      clock,
      provider: gcpProvider,
      newLister: lister,
      account,
      brokenAccount: { ...account, credentials: "broken" },
      fake: {
        server: gcp,
        addCluster(scope, name, labels = {}) {
          gcp.addCluster(projectOf(scope), location, name, { endpoint: "34.1.2.3", caData: testCaData, labels: { ...labels } });
          return location;
        },
        removeCluster: (scope, name) => gcp.removeCluster(projectOf(scope), location, name),
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
      // clusters.get in every project.
      maxRequestsPerLookup: account.projects.length,
      secrets: [JSON.parse(serviceAccount.keyFile).private_key as string],
      close,
    };
  },
});
