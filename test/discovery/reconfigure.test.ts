import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { DiscoveryFixture, withAccess } from "../support/discovery-fixture.js";

let fixture: DiscoveryFixture;
afterEach(() => fixture?.close());

async function twoAccounts() {
  fixture = new DiscoveryFixture();
  fixture.cloud.add("us-west-2", withAccess("web", { env: "prod" }), withAccess("dev", { env: "dev" }));
  fixture.cloud.add("eu-west-1", withAccess("db", { env: "prod" }));
  fixture.cloud.add("ap-south-1", withAccess("other"));
  const accounts: [Record<string, unknown>, Record<string, unknown>] = [
    { id: "acme", regions: ["us-west-2", "eu-west-1"], tags: { env: "prod" } },
    { id: "beta", regions: ["ap-south-1"] },
  ];
  await fixture.start(fixture.config(accounts), 3);
  assert.deepEqual(fixture.ids(), ["db.eu-west-1.acme", "other.ap-south-1.beta", "web.us-west-2.acme"]);
  return accounts;
}
const listings = () => [...fixture.cloud.listings.values()].reduce((a, b) => a + b, 0);

describe("reconfiguring account discovery (a reload)", () => {
  it("keeps an unchanged account's pollers and clusters: no listing, no gap, its schedule unchanged", async () => {
    const accounts = await twoAccounts();
    const web = fixture.discovery.get("web.us-west-2.acme");
    const before = listings();
    fixture.discovery.configure(fixture.config(accounts, { accountDiscovery: { lookupsPerSecond: 5 } }));
    fixture.scheduler.advance(0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(listings(), before, "no re-listing storm");
    assert.equal(fixture.discovery.get("web.us-west-2.acme"), web);
    assert.deepEqual(fixture.scheduler.pending(), [300_000, 300_000, 300_000]);
    const configured = fixture.lines("accounts configured").at(-1);
    assert.deepEqual([configured?.kept, configured?.started, configured?.restarted], [2, 0, 0]);
  });

  it("restarts a changed account, keeping its last known clusters until its first complete listing", async () => {
    const accounts = await twoAccounts();
    fixture.cloud.faults.set("us-west-2", { hold: true });
    fixture.discovery.configure(fixture.config([{ ...accounts[0], tags: {} }, accounts[1]]));
    const listed = fixture.cycles.next(1);
    fixture.scheduler.advance(0);
    await listed;
    assert.deepEqual(fixture.ids(), ["db.eu-west-1.acme", "other.ap-south-1.beta", "web.us-west-2.acme"], "held: nothing lost meanwhile");
    const released = fixture.cycles.next(1);
    fixture.cloud.faults.delete("us-west-2");
    fixture.cloud.release();
    await released;
    assert.deepEqual(fixture.ids(), ["db.eu-west-1.acme", "dev.us-west-2.acme", "other.ap-south-1.beta", "web.us-west-2.acme"]);
    assert.equal(fixture.lines("accounts configured").at(-1)?.restarted, 1);
  });

  it("drops at once the clusters of a scope a changed account no longer has, and that scope's figures", async () => {
    const accounts = await twoAccounts();
    fixture.discovery.configure(fixture.config([{ ...accounts[0], regions: ["us-west-2"] }, accounts[1]]));
    assert.deepEqual(fixture.ids(), ["other.ap-south-1.beta", "web.us-west-2.acme"]);
    const removed = fixture.lines("discovered cluster removed");
    assert.deepEqual(
      removed.map((l) => [l.cluster_id, l.why]),
      [["db.eu-west-1.acme", "the account changed, and its scope went"]],
    );
    assert.equal(await fixture.metric('cluster_token_discovered_clusters\\{account="acme",scope="eu-west-1"\\}'), undefined);
    assert.equal(await fixture.metric('cluster_token_discovered_clusters\\{account="acme",scope="us-west-2"\\}'), 1);
  });

  it("stops a removed account: its clusters and figures go at once, each removal logged", async () => {
    const accounts = await twoAccounts();
    fixture.discovery.configure(fixture.config([accounts[1]]));
    assert.deepEqual(fixture.ids(), ["other.ap-south-1.beta"]);
    assert.deepEqual(
      fixture
        .lines("discovered cluster removed")
        .map((l) => l.cluster_id)
        .sort(),
      ["db.eu-west-1.acme", "web.us-west-2.acme"],
    );
    assert.doesNotMatch(await fixture.metrics.scrape(), /account="acme"/);
    fixture.scheduler.advance(3_600_000);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(fixture.cloud.listings.get("us-west-2"), 1, "its pollers stopped");
  });

  it("lets a configured id that a reload adds win over a discovered one", async () => {
    const accounts = await twoAccounts();
    const clusters = [{ id: "web.us-west-2.acme", provider: "aws", region: "us-west-2", name: "pinned", credentials: "aws-test" }];
    fixture.discovery.configure(fixture.config(accounts, { clusters }));
    assert.equal(fixture.discovery.get("web.us-west-2.acme"), undefined);
    assert.equal(fixture.lines("discovered cluster removed")[0]?.why, "a clusters entry has its id");
  });
});
