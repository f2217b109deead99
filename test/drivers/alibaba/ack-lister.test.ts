import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { alibabaAccountSchema } from "../../../src/drivers/alibaba/alibaba-config.js";
import { alibabaProvider } from "../../../src/drivers/alibaba/alibaba-provider.js";
import type { ListedCluster } from "../../../src/drivers/cluster-lister.js";
import { serviceFailure } from "../../support/service-failure.js";
import { testCaData } from "../../support/test-config.js";
import { type AckListerEnv, setUpAckLister } from "./ack-lister-harness.js";

const never = () => new AbortController().signal;
const issues = (input: unknown) =>
  alibabaAccountSchema.safeParse(input).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];
const account = { id: "aliyun", provider: "alibaba", credentials: "lister" };
const cluster = (name: string, extra: object = {}) => ({
  region: "cn-hangzhou",
  name,
  server: `https://${name}.ack.example:6443`,
  caData: testCaData,
  ...extra,
});

describe("Alibaba Cloud accounts", () => {
  it("name one or more region ids, each once", () => {
    assert.deepEqual(issues({ ...account, regions: ["cn-hangzhou", "ap-southeast-1"] }), []);
    assert.deepEqual(issues({ ...account, regions: [] }), ["regions: must name at least one region"]);
    assert.deepEqual(issues({ ...account, regions: ["Hangzhou"] }), ["regions.0: must be an Alibaba Cloud region id such as cn-hangzhou"]);
    assert.deepEqual(issues({ ...account, regions: ["cn-hangzhou", "cn-hangzhou"] }), ["regions: must name each region once"]);
    const scopes = alibabaProvider.discovery!.scopes(alibabaAccountSchema.parse({ ...account, regions: ["cn-hangzhou", "cn-beijing"] }));
    assert.deepEqual(scopes, ["cn-hangzhou", "cn-beijing"]);
  });
});

describe("the ACK lister", () => {
  let env: AckListerEnv;
  before(async () => {
    env = await setUpAckLister();
  });
  after(() => env.close());
  beforeEach(() => env.fake.reset());
  const cs = () => env.ali.cs;

  /**
   * Lists cn-hangzhou with page 2 held at the fake until `between` has changed the
   * clusters: what a listing meets when clusters are created or deleted while it pages.
   */
  const listWhile = async (between: () => void): Promise<readonly ListedCluster[]> => {
    const lister = env.newLister();
    await lister.listScope(env.account, "cn-shanghai", never()); // the role is assumed, so the next requests are all pages
    const arrived = cs().requests.length;
    cs().fault = { hold: true };
    const listing = lister.listScope(env.account, "cn-hangzhou", never());
    listing.catch(() => {}); // awaited below
    try {
      await cs().received(arrived + 1);
      const released = cs().release(); // page 1, answered as the clusters are now; page 2 is held again
      await released;
      await cs().received(arrived + 2);
      between();
      cs().fault = undefined;
      await cs().release();
      return await listing;
    } finally {
      cs().fault = undefined;
      await cs().release();
    }
  };
  const seed = () => {
    for (const name of ["a1", "a2", "a3", "a4"]) cs().putCluster(`c${name}000000000000`, cluster(name));
  };

  it("rejects a listing when a cluster is created or deleted between its pages, rather than miss one a page shifted", async () => {
    seed();
    assert.equal((await listWhile(() => {})).length, 4, "nothing changed: a complete listing");
    for (const change of [() => cs().putCluster("ca0000000000000", cluster("a0")), () => cs().deleteCluster("ca1000000000000")]) {
      env.fake.reset();
      seed();
      const err = await serviceFailure(listWhile(change));
      assert.equal(err.reason, "UPSTREAM_BAD_RESPONSE");
    }
    // Same total, shifted pages: a cluster seen twice.
    env.fake.reset();
    seed();
    const shifted = await serviceFailure(
      listWhile(() => {
        cs().deleteCluster("ca4000000000000");
        cs().putCluster("ca1500000000000", cluster("a15"));
      }),
    );
    assert.equal(shifted.reason, "UPSTREAM_BAD_RESPONSE");
  });

  it("rejects a page that answers as another page, or with tags that are not key and value strings", async () => {
    const tagged = { cluster_id: "ctags00000000000", name: "tags", region_id: "cn-hangzhou", tags: [{ key: "env" }] };
    for (const body of [
      { clusters: [], page_info: { page_number: 2, page_size: 2, total_count: 0 } },
      { clusters: [tagged], page_info: { page_number: 1, page_size: 2, total_count: 1 } },
    ]) {
      cs().fault = { status: 200, body: JSON.stringify(body), contentType: "application/json" };
      try {
        const err = await serviceFailure(env.newLister().listScope(env.account, "cn-hangzhou", never()));
        assert.equal(err.reason, "UPSTREAM_BAD_RESPONSE");
      } finally {
        cs().fault = undefined;
      }
    }
  });

  it("leaves out deleted clusters, and takes the public API server of master_url as the endpoint when it is https", async () => {
    cs().putCluster("cgone00000000000", cluster("gone", { state: "deleted" }));
    cs().putCluster("clive00000000000", cluster("live", { tags: { env: "prod" } }));
    cs().putCluster("cnoip00000000000", cluster("noip", { server: "" }));
    const listed = await env.newLister().listScope(env.account, "cn-hangzhou", never());
    assert.deepEqual(
      listed.map((c) => c.entry),
      [
        { region: "cn-hangzhou", clusterId: "clive00000000000", name: "live", endpoint: "https://live.ack.example:6443" },
        { region: "cn-hangzhou", clusterId: "cnoip00000000000", name: "noip" },
      ],
    );
    assert.equal(cs().counts.of("DescribeClustersV1"), 2, "the deleted cluster still counts for paging");
  });

  it("looks up with the API's name filter and takes only the exact name; nothing is asked outside the account's regions", async () => {
    cs().putCluster("clook0000000000a", cluster("look"));
    cs().putCluster("clook0000000000b", cluster("look-more"));
    const found = await env.newLister().lookup(env.account, "look", "cn-hangzhou", never());
    assert.equal(found?.entry.clusterId, "clook0000000000a");
    assert.equal(env.ali.cs.requests.at(-1)?.url.searchParams.get("name"), "look");
    const before = cs().counts.total();
    assert.equal(await env.newLister().lookup(env.account, "look", "us-west-1", never()), undefined);
    assert.equal(cs().counts.total(), before);
  });

  it("assumes the account's role once for listing and minting with one set of drivers", async () => {
    cs().putCluster("cmint000000000000", cluster("mint"));
    const before = env.ali.sts.requests.length;
    const drivers = alibabaProvider.create(env.credentials, { upstreamTimeoutMs: 10_000, clock: env.clock });
    const [listed] = await drivers.lister!.listScope(env.account as never, "cn-hangzhou", never());
    const minted = await drivers.token!.mintToken(
      { ...(listed?.entry as object), id: "mint", provider: "alibaba", credentials: "lister" } as never,
      never(),
    );
    assert.equal(env.ali.verifyAckToken(minted.token, "cmint000000000000").ok, true);
    assert.equal(env.ali.sts.requests.length - before, 1);
  });
});
