import type { AwsAccount } from "../../../src/drivers/aws/aws-config.js";
import { awsProvider } from "../../../src/drivers/aws/aws-provider.js";
import { testCaData } from "../../support/test-config.js";
import { runListerConformance } from "../listertest.js";
import { listerKeys, startEksListerFixture } from "./eks-lister-fixture.js";

const pageSize = 3;
const pages = (items: number) => Math.max(1, Math.ceil(items / pageSize));

runListerConformance<AwsAccount>({
  name: "AWS EKS",
  pageSize,
  async setUp() {
    const { clock, eks, account, lister, close } = await startEksListerFixture(pageSize);
    return {
      clock,
      provider: awsProvider,
      newLister: lister,
      account,
      brokenAccount: { ...account, credentials: "broken" },
      fake: {
        server: eks,
        addCluster(region, name, labels = {}) {
          eks.addCluster(region, name, {
            endpoint: `https://${name}.gr7.${region}.eks.amazonaws.com`,
            caData: testCaData,
            tags: { ...labels },
          });
          return region;
        },
        removeCluster: (region, name) => eks.removeCluster(region, name),
        failPage(region, page, fault) {
          eks.failPage("ListClusters", region, page, fault);
          eks.failPage("GetResources", region, page, fault);
        },
        denyScope: (region) => eks.denyRegion(region),
        partialScope: (region) => eks.partialRegion(region),
        apiRequests: () => eks.calls.ListClusters + eks.calls.DescribeCluster + eks.calls.GetResources,
        reset: () => eks.reset(),
      },
      // With tags, GetResources with tag filters is the listing; without, ListClusters plus GetResources for the tags.
      requestsPerListing: ({ clusters, matching, labelled, filtered }) => (filtered ? pages(matching) : pages(clusters) + pages(labelled)),
      maxRequestsPerLookup: 1,
      secrets: [listerKeys.secretAccessKey],
      close,
    };
  },
});
