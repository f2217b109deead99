import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { ncpAccountSchema } from "../../../src/drivers/ncp/ncp-config.js";
import { ncpProvider } from "../../../src/drivers/ncp/ncp-provider.js";
import { serviceFailure } from "../../support/service-failure.js";
import { testCaData } from "../../support/test-config.js";
import { type NksListerEnv, setUpNksLister } from "./nks-lister-harness.js";

const never = () => new AbortController().signal;
const issues = (input: unknown) => ncpAccountSchema.safeParse(input).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];
const account = { id: "naver", provider: "ncp", credentials: "lister" };

describe("NAVER Cloud accounts", () => {
  it("name one or more NCP region codes, each once, and refuse a tag filter: NKS clusters have no tags", () => {
    assert.deepEqual(issues({ ...account, regions: ["KR", "SGN", "JPN"] }), []);
    assert.deepEqual(issues({ ...account, regions: [] }), ["regions: must name at least one region"]);
    assert.deepEqual(issues({ ...account, regions: ["kr"] }), ["regions.0: must be an NCP region code such as KR, SGN or JPN"]);
    assert.deepEqual(issues({ ...account, regions: ["KR", "KR"] }), ["regions: must name each region once"]);
    assert.deepEqual(issues({ ...account, regions: ["KR"], tags: { env: "prod" } }), [
      "tags: NKS clusters have no tags or labels to filter on; leave tags out of ncp accounts and select clusters by id in grants",
    ]);
    assert.deepEqual(issues({ ...account, regions: ["KR"], tags: {} }), []);
    assert.deepEqual(ncpProvider.discovery!.scopes(ncpAccountSchema.parse({ ...account, regions: ["KR", "SGN"] })), ["KR", "SGN"]);
  });
});

describe("the NKS lister", () => {
  let env: NksListerEnv;
  before(async () => {
    env = await setUpNksLister();
  });
  after(() => env.close());
  beforeEach(() => env.fake.reset());
  const answer = (body: unknown) => {
    env.ncp.fault = { status: 200, body: JSON.stringify(body), contentType: "application/json" };
  };

  it("lists a region with one signed request on its stage's path, the endpoint only when it is https", async () => {
    env.ncp.putCluster("0A1B2C3D-0000-4000-8000-00000000000A", {
      region: "SGN",
      name: "sg-a",
      server: "https://sg-a.example",
      caData: testCaData,
    });
    const [listed] = await env.newLister().listScope(env.account, "SGN", never());
    assert.deepEqual(listed?.entry, {
      region: "SGN",
      uuid: "0A1B2C3D-0000-4000-8000-00000000000A",
      name: "sg-a",
      endpoint: "https://sg-a.example",
    });
    assert.equal(env.ncp.requests.at(-1)?.url.pathname, "/vnks/sgn-v2/clusters");
    try {
      answer({
        clusters: [{ uuid: "0A1B2C3D-0000-4000-8000-00000000000B", name: "plain", regionCode: "SGN", endpoint: "http://plain.example" }],
      });
      const [plain] = await env.newLister().listScope(env.account, "SGN", never());
      assert.deepEqual(plain?.entry, { region: "SGN", uuid: "0A1B2C3D-0000-4000-8000-00000000000B", name: "plain" });
    } finally {
      env.ncp.fault = undefined;
    }
  });

  it("rejects an answer with a cluster of another stage's region, or without its uuid", async () => {
    for (const cluster of [
      { uuid: "0A1B2C3D-0000-4000-8000-00000000000C", name: "x", regionCode: "SGN" },
      { name: "y", regionCode: "KR" },
    ]) {
      answer({ clusters: [cluster] });
      try {
        const err = await serviceFailure(env.newLister().listScope(env.account, "KR", never()));
        assert.equal(err.reason, "UPSTREAM_BAD_RESPONSE");
        assert.deepEqual(err.metadata, { provider: "ncp", operation: "nks:GetClusterList", account_id: "naver", scope: "KR" });
      } finally {
        env.ncp.fault = undefined;
      }
    }
  });

  it("looks up by the id's spelling of name and region, and asks nothing of a region outside the account", async () => {
    env.fake.addCluster("KR", "Team_Cluster");
    assert.equal((await env.newLister().lookup(env.account, "team-cluster", "kr", never()))?.name, "Team_Cluster");
    const before = env.ncp.counts.total();
    assert.equal(await env.newLister().lookup(env.account, "team-cluster", "jpn", never()), undefined);
    assert.equal(env.ncp.counts.total(), before, "no request for a region the account does not list");
    env.fake.addCluster("KR", "team-cluster");
    assert.equal(await env.newLister().lookup(env.account, "team-cluster", "KR", never()), undefined, "an ambiguous id is not served");
  });
});
