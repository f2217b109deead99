import type { AwsAccount, AwsCredentialConfig } from "../../../src/drivers/aws/aws-config.js";
import { awsProvider } from "../../../src/drivers/aws/aws-provider.js";
import type { ClusterLister } from "../../../src/drivers/cluster-lister.js";
import { startFakeEks } from "../../fakes/fake-eks.js";
import { startFakeSts } from "../../fakes/fake-sts.js";
import { FakeClock } from "../../support/fake-clock.js";
import { testCaData } from "../../support/test-config.js";
import { runListerConformance } from "../listertest.js";

const base = { accessKeyId: "AKIALISTERCONFORM001", secretAccessKey: "lister/Secret+Key0123456789abcdefghijkl" };
const roleArn = "arn:aws:iam::123456789012:role/cluster-lister";
process.env.CTS_LISTER_AWS_AKID = base.accessKeyId;
process.env.CTS_LISTER_AWS_SECRET = base.secretAccessKey;
const pageSize = 3;
const pages = (items: number) => Math.max(1, Math.ceil(items / pageSize));

runListerConformance<AwsAccount>({
  name: "AWS EKS",
  pageSize,
  async setUp() {
    // Far from the wall clock: a request signed by the wall clock anywhere, the SDK's included, is refused.
    const clock = new FakeClock();
    const sts = await startFakeSts({
      keys: { [base.accessKeyId]: { secretAccessKey: base.secretAccessKey } },
      roles: { [roleArn]: { trustedKeys: [base.accessKeyId] } },
      clock,
    });
    const eks = await startFakeEks({ region: "us-west-2", regions: { "eu-west-1": {} }, keys: sts.keys, clusters: {}, pageSize, clock });
    const keys = { accessKeyId: { env: "CTS_LISTER_AWS_AKID" }, secretAccessKey: { env: "CTS_LISTER_AWS_SECRET" } };
    const credentials: Record<string, AwsCredentialConfig> = {
      lister: { provider: "aws", ...keys, roleArn, stsEndpoint: sts.url },
      broken: { provider: "aws", ...keys, secretAccessKey: { env: "CTS_LISTER_AWS_UNSET" } },
    };
    const account: AwsAccount = {
      id: "acme",
      provider: "aws",
      credentials: "lister",
      regions: ["us-west-2", "eu-west-1"],
      tags: {},
      pollSeconds: 300,
      idTemplate: "{name}.{region}.{account}",
      apiEndpoint: eks.url,
    };
    return {
      clock,
      provider: awsProvider,
      newLister: () => awsProvider.create(credentials, { upstreamTimeoutMs: 10_000, clock }).lister as ClusterLister<AwsAccount>,
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
      secrets: [base.secretAccessKey],
      close: async () => {
        await eks.close();
        await sts.close();
      },
    };
  },
});
