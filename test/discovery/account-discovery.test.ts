import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { DiscoveryFixture, listingFailure, withAccess } from "../support/discovery-fixture.js";

const poll = 300_000;
let fixture: DiscoveryFixture;
afterEach(() => fixture?.close());

describe("account discovery", () => {
  it("lists every scope at once, in the background, and registers what it finds under template ids", async () => {
    fixture = new DiscoveryFixture();
    fixture.cloud.add(
      "us-west-2",
      withAccess("web", { env: "prod" }),
      withAccess("Api_1", { env: "prod" }),
      withAccess("dev", { env: "dev" }),
    );
    fixture.cloud.add("eu-west-1", withAccess("db", { env: "prod" }));
    const config = fixture.config([{ id: "acme", regions: ["us-west-2", "eu-west-1"], tags: { env: "prod" } }]);
    fixture.discovery.configure(config);
    assert.deepEqual(fixture.ids(), [], "configure() does not wait for a cloud");
    await fixture.poll(0, 2);
    assert.deepEqual(fixture.ids(), ["api-1.us-west-2.acme", "db.eu-west-1.acme", "web.us-west-2.acme"]);
    const web = fixture.discovery.get("web.us-west-2.acme");
    assert.deepEqual(
      { id: web?.id, provider: web?.provider, credentials: web?.credentials, labels: web?.labels },
      { id: "web.us-west-2.acme", provider: "aws", credentials: "aws-test", labels: { env: "prod" } },
    );
    assert.equal(fixture.discovery.sourceOf("web.us-west-2.acme"), "acme");
    assert.equal(fixture.lines("discovered cluster added").length, 3);
    assert.equal(await fixture.metric('cluster_token_discovered_clusters\\{account="acme",scope="us-west-2"\\}'), 2);
    assert.equal(
      await fixture.metric('cluster_token_discovery_last_success_timestamp_seconds\\{account="acme",scope="eu-west-1"\\}'),
      fixture.scheduler.clock.now() / 1000,
    );
  });

  for (const [fault, reason, code] of [
    ["an error on page 2", "UPSTREAM_UNAVAILABLE", "Unavailable"],
    ["a 403 for the region", "UPSTREAM_PERMISSION_DENIED", "FailedPrecondition"],
    ["a partial answer", "UPSTREAM_BAD_RESPONSE", "Unavailable"],
  ] as const) {
    it(`keeps a scope's clusters through a failed listing (${fault}), with a warning and a metric, while other scopes update`, async () => {
      fixture = new DiscoveryFixture();
      fixture.cloud.add("us-west-2", withAccess("web"), withAccess("api"));
      fixture.cloud.add("eu-west-1", withAccess("db"));
      await fixture.start(fixture.config([{ id: "acme", regions: ["us-west-2", "eu-west-1"] }]), 2);
      fixture.cloud.remove("us-west-2", "web");
      fixture.cloud.add("eu-west-1", withAccess("cache"));
      fixture.cloud.faults.set("us-west-2", { fail: listingFailure(reason) });
      await fixture.poll(poll, 2);
      assert.deepEqual(fixture.ids(), ["api.us-west-2.acme", "cache.eu-west-1.acme", "db.eu-west-1.acme", "web.us-west-2.acme"]);
      const [warning] = fixture.lines("listing the account's clusters failed; its last known clusters stay");
      assert.equal(warning?.level, "warn");
      assert.deepEqual([warning?.account, warning?.scope, warning?.reason], ["acme", "us-west-2", reason]);
      assert.equal(
        await fixture.metric(
          `cluster_token_discovery_listings_total\\{account="acme",scope="us-west-2",code="${code}",reason="${reason}"\\}`,
        ),
        1,
      );
      assert.equal(
        await fixture.metric('cluster_token_discovered_clusters\\{account="acme",scope="us-west-2"\\}'),
        2,
        "the last known count stays",
      );
      fixture.cloud.faults.delete("us-west-2");
      await fixture.poll(30_000, 1);
      assert.deepEqual(fixture.ids(), ["api.us-west-2.acme", "cache.eu-west-1.acme", "db.eu-west-1.acme"], "a complete listing removes it");
      assert.equal(fixture.lines("discovered cluster removed")[0]?.cluster_id, "web.us-west-2.acme");
    });
  }

  it("keeps a scope's clusters through a listing that times out, even one whose lister ignores its signal", async () => {
    fixture = new DiscoveryFixture();
    fixture.cloud.add("us-west-2", withAccess("web"));
    const config = fixture.config([{ id: "acme", regions: ["us-west-2"] }], { accountDiscovery: { listingTimeoutSeconds: 20 } });
    await fixture.start(config, 1);
    fixture.cloud.remove("us-west-2", "web");
    fixture.cloud.faults.set("us-west-2", { holdIgnoringSignal: true });
    const ended = fixture.cycles.next();
    fixture.scheduler.advance(poll);
    await new Promise((resolve) => setImmediate(resolve));
    fixture.scheduler.advance(20_000);
    await ended;
    assert.deepEqual(fixture.ids(), ["web.us-west-2.acme"]);
    assert.equal(fixture.lines("listing the account's clusters failed; its last known clusters stay")[0]?.reason, "UPSTREAM_UNREACHABLE");
    fixture.cloud.release();
  });

  it("removes a deleted cluster with the next complete listing, and only then", async () => {
    fixture = new DiscoveryFixture();
    fixture.cloud.add("us-west-2", withAccess("web"), withAccess("api"));
    await fixture.start(fixture.config([{ id: "acme", regions: ["us-west-2"] }]), 1);
    fixture.cloud.remove("us-west-2", "web");
    assert.ok(fixture.discovery.get("web.us-west-2.acme"), "still known until the next listing");
    await fixture.poll(poll, 1);
    assert.equal(fixture.discovery.get("web.us-west-2.acme"), undefined);
    assert.deepEqual(fixture.ids(), ["api.us-west-2.acme"]);
  });

  it("caps a listing of 10 × maxClusters, reports it once, and counts what it skipped", async () => {
    fixture = new DiscoveryFixture();
    for (let i = 0; i < 50; i++) fixture.cloud.add("us-west-2", withAccess(`c${String(i).padStart(2, "0")}`));
    await fixture.start(fixture.config([{ id: "acme", regions: ["us-west-2"], maxClusters: 5 }]), 1);
    assert.deepEqual(
      fixture.ids(),
      ["c00", "c01", "c02", "c03", "c04"].map((n) => `${n}.us-west-2.acme`),
    );
    await fixture.poll(poll, 1);
    const capped = fixture.lines("the account holds more clusters than its maxClusters; those past it (by id) are not registered");
    assert.equal(capped.length, 1, "reported once, not at every poll");
    assert.deepEqual([capped[0]?.listed, capped[0]?.skipped, capped[0]?.maxClusters], [50, 45, 5]);
    assert.equal(
      await fixture.metric('cluster_token_discovery_skipped_clusters\\{account="acme",scope="us-west-2",reason="over_cap"\\}'),
      45,
    );
  });

  it("keeps only sanitized labels: a tag with control characters or a 10 KB value is dropped, and counted", async () => {
    fixture = new DiscoveryFixture();
    fixture.cloud.add("us-west-2", withAccess("web", { env: "prod", evil: "pr\u0000od\n", big: "v".repeat(10 * 1024), "aws:system": "x" }));
    await fixture.start(fixture.config([{ id: "acme", regions: ["us-west-2"] }]), 1);
    assert.deepEqual(fixture.discovery.get("web.us-west-2.acme")?.labels, { env: "prod" });
    assert.equal(await fixture.metric('cluster_token_discovery_labels_dropped\\{account="acme",scope="us-west-2"\\}'), 3);
    assert.ok(fixture.logs.text().length < 10_000, "no 10 KB value reaches a log line");
  });

  it("skips and reports, once, ids the template makes invalid or that collide, and clusters the schema refuses; never merges them", async () => {
    fixture = new DiscoveryFixture();
    fixture.cloud.add("us-west-2", withAccess("x".repeat(80)), withAccess("web"), withAccess("Web"), withAccess("taken"), {
      ...withAccess("bad"),
      extra: { unexpected: true },
    });
    fixture.cloud.add("eu-west-1", withAccess("web"));
    const config = fixture.config([{ id: "acme", regions: ["us-west-2", "eu-west-1"], idTemplate: "{name}.{account}" }], {
      clusters: [{ id: "taken.acme", provider: "aws", region: "us-west-2", name: "taken", credentials: "aws-test" }],
    });
    await fixture.start(config, 2);
    await fixture.poll(poll, 2);
    assert.deepEqual(fixture.ids(), ["web.acme"]);
    const skipped = fixture.lines("a discovered cluster was skipped").map((l) => [l.cluster_id, l.reason]);
    assert.deepEqual(skipped.sort(), [
      ["bad.acme", "refused_by_schema"],
      ["taken.acme", "static_id"],
      ["web.acme", "id_collision"],
      ["web.acme", "id_collision"],
      [`${"x".repeat(80)}.acme`, "invalid_id"],
    ]);
    assert.equal(
      await fixture.metric('cluster_token_discovery_skipped_clusters\\{account="acme",scope="us-west-2",reason="invalid_id"\\}'),
      1,
    );
    const web = fixture.discovery.get("web.acme") as { name?: string; region?: string } | undefined;
    assert.deepEqual([web?.name, web?.region], ["web", "us-west-2"], "the first keeps the id, whole; nothing is merged into it");
  });

  it("reports an account whose credentials are refused on its own metric and log, while the other accounts keep working", async () => {
    fixture = new DiscoveryFixture();
    fixture.cloud.add("us-east-1", withAccess("locked"));
    fixture.cloud.add("eu-west-1", withAccess("open"));
    fixture.cloud.faults.set("us-east-1", { fail: listingFailure("UPSTREAM_PERMISSION_DENIED") });
    const config = fixture.config([
      { id: "refused", regions: ["us-east-1"] },
      { id: "fine", regions: ["eu-west-1"] },
    ]);
    await fixture.start(config, 2);
    assert.deepEqual(fixture.ids(), ["open.eu-west-1.fine"]);
    const [warning] = fixture.lines("listing the account's clusters failed; its last known clusters stay");
    assert.deepEqual([warning?.account, warning?.reason], ["refused", "UPSTREAM_PERMISSION_DENIED"]);
    assert.equal(
      await fixture.metric(
        'cluster_token_discovery_listings_total\\{account="refused",scope="us-east-1",code="FailedPrecondition",reason="UPSTREAM_PERMISSION_DENIED"\\}',
      ),
      1,
    );
    assert.equal(
      await fixture.metric('cluster_token_discovery_listings_total\\{account="fine",scope="eu-west-1",code="OK",reason=""\\}'),
      1,
    );
  });

  it("says once, when every scope of the first config has been listed or has failed, that the first listings are over", async () => {
    fixture = new DiscoveryFixture();
    fixture.cloud.add("us-west-2", withAccess("web"));
    fixture.cloud.faults.set("eu-west-1", { fail: listingFailure("UPSTREAM_UNAVAILABLE") });
    fixture.cloud.faults.set("ap-south-1", { hold: true });
    const config = fixture.config([
      { id: "acme", regions: ["us-west-2", "eu-west-1"] },
      { id: "beta", regions: ["ap-south-1"] },
    ]);
    await fixture.start(config, 2);
    assert.equal(fixture.firstListingsEnded, 0, "a scope is still listing");
    fixture.cloud.faults.delete("ap-south-1");
    const third = fixture.cycles.next();
    fixture.cloud.release();
    await third;
    assert.equal(fixture.firstListingsEnded, 1);
    fixture.discovery.configure(fixture.config([{ id: "gamma", regions: ["us-west-2"] }]));
    await fixture.poll(300_000, 1);
    assert.equal(fixture.firstListingsEnded, 1, "once: not after later listings or reloads");
  });
});
