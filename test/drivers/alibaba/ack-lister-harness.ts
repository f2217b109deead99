import { randomBytes } from "node:crypto";
import type { ClusterLister } from "../../../src/drivers/cluster-lister.js";
import { maxLookupPages } from "../../../src/drivers/alibaba/ack-lister.js";
import {
  type AlibabaAccount,
  type AlibabaCredentialConfig,
  alibabaAccountSchema,
  alibabaCredentialSchema,
} from "../../../src/drivers/alibaba/alibaba-config.js";
import { alibabaProvider } from "../../../src/drivers/alibaba/alibaba-provider.js";
import { type FakeAlibaba, startFakeAlibaba } from "../../fakes/fake-alibaba.js";
import { FakeClock } from "../../support/fake-clock.js";
import { testCaData } from "../../support/test-config.js";
import type { ListerHarness, ListerHarnessEnv } from "../listertest.js";

const keys = { accessKeyId: "LTAI5tListerKey000001", accessKeySecret: "alibaba-lister-secret-0123456789" };
process.env.CTS_ACK_LISTER_ID = keys.accessKeyId;
process.env.CTS_ACK_LISTER_SECRET = keys.accessKeySecret;
const roleArn = "acs:ram::1234567890123456:role/cluster-lister";
/** The most clusters a DescribeClustersV1 page of the fake holds, so that a few clusters make several pages. */
export const ackPageSize = 2;

/** What the ACK lister harness gives tests besides the contract's: the fake Alibaba Cloud, and the credentials entries. */
export type AckListerEnv = ListerHarnessEnv<AlibabaAccount> & {
  ali: FakeAlibaba;
  /** The entries the lister is built from: `lister`, and `broken` (its secret unresolvable). */
  credentials: Record<string, AlibabaCredentialConfig>;
};

/**
 * The lister harness of Alibaba Cloud: an account of two regions, listing through an
 * assumed RAM role (STS) with ACS3-signed DescribeClustersV1 calls against the fake
 * Container Service, on one fake clock.
 */
export const ackListerHarness: ListerHarness<AlibabaAccount> = {
  name: "Alibaba Cloud ACK",
  pageSize: ackPageSize,
  setUp: () => setUpAckLister(),
};

/** Sets up the harness's account, lister and fake; see {@link ackListerHarness}. */
export async function setUpAckLister(): Promise<AckListerEnv> {
  const clock = new FakeClock();
  const ali = await startFakeAlibaba({
    clock,
    keys: { [keys.accessKeyId]: keys.accessKeySecret },
    roles: { [roleArn]: { trustedKeys: [keys.accessKeyId] } },
    clusters: {},
  });
  ali.cs.maxPageSize = ackPageSize;
  const base = { provider: "alibaba", accessKeyId: { env: "CTS_ACK_LISTER_ID" }, roleArn, stsEndpoint: ali.sts.url };
  const credentials: Record<string, AlibabaCredentialConfig> = {
    lister: alibabaCredentialSchema.parse({ ...base, accessKeySecret: { env: "CTS_ACK_LISTER_SECRET" } }),
    broken: alibabaCredentialSchema.parse({ ...base, accessKeySecret: { env: "CTS_ACK_LISTER_UNSET" } }),
  };
  const account = alibabaAccountSchema.parse({
    id: "aliyun",
    provider: "alibaba",
    credentials: "lister",
    apiEndpoint: ali.cs.url,
    regions: ["cn-hangzhou", "cn-shanghai"],
  });
  const ids = new Map<string, string>(); // "region/name" → cluster id, so that a relabelling replaces the cluster
  return {
    clock,
    ali,
    credentials,
    provider: alibabaProvider,
    newLister: () => alibabaProvider.create(credentials, { upstreamTimeoutMs: 10_000, clock }).lister as ClusterLister<AlibabaAccount>,
    account,
    brokenAccount: { ...account, credentials: "broken" },
    fake: {
      server: ali.cs,
      addCluster(region, name, labels) {
        const clusterId = ids.get(`${region}/${name}`) ?? `c${randomBytes(16).toString("hex")}`;
        ids.set(`${region}/${name}`, clusterId);
        ali.cs.putCluster(clusterId, {
          region,
          name,
          tags: { ...labels },
          server: `https://${name}.ack.example.com:6443`,
          caData: testCaData,
        });
        return region;
      },
      removeCluster(region, name) {
        const clusterId = ids.get(`${region}/${name}`);
        if (clusterId) ali.cs.deleteCluster(clusterId);
      },
      failPage: (region, page, fault) => ali.cs.faults.failPage(region, page, fault),
      denyScope: (region) => ali.cs.faults.deny(region),
      partialScope: (region) => ali.cs.faults.makePartial(region),
      apiRequests: () => ali.cs.counts.total(),
      reset() {
        ali.cs.reset();
        ids.clear();
      },
    },
    // page_number pages until page_info.total_count clusters were read; an empty region is one page.
    requestsPerListing: ({ clusters }) => Math.max(1, Math.ceil(clusters / ackPageSize)),
    maxRequestsPerLookup: maxLookupPages,
    secrets: [keys.accessKeySecret],
    close: () => ali.close(),
  };
}
