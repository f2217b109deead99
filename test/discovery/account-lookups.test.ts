import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { afterEach, describe, it } from "node:test";
import { ServiceError } from "../../src/errors/service-error.js";
import { DiscoveryFixture, listingFailure, withAccess } from "../support/discovery-fixture.js";

let fixture: DiscoveryFixture;
afterEach(() => fixture?.close());
const signal = () => new AbortController().signal;

async function started(more: Record<string, unknown> = {}) {
  fixture = new DiscoveryFixture();
  fixture.cloud.add("us-west-2", withAccess("web", { env: "prod" }));
  await fixture.start(fixture.config([{ id: "acme", regions: ["us-west-2", "eu-west-1"], tags: { env: "prod" } }], more), 2);
  return fixture;
}

/** Looks `id` up and says how it ended: the cluster's id, "unknown", or the error's reason. */
async function outcome(id: string): Promise<string> {
  try {
    return (await fixture.discovery.lookup(id, signal()))?.id ?? "unknown";
  } catch (err) {
    return err instanceof ServiceError ? err.reason : String(err);
  }
}

describe("lookups of ids no listing has found", () => {
  it("find a cluster created after the last poll with one lookup, register it at once, and let the next listing confirm it", async () => {
    await started();
    fixture.cloud.add("eu-west-1", withAccess("fresh", { env: "prod" }));
    const found = await fixture.discovery.lookup("fresh.eu-west-1.acme", signal());
    assert.equal(found?.id, "fresh.eu-west-1.acme");
    assert.deepEqual(fixture.cloud.lookups, [{ name: "fresh", region: "eu-west-1" }]);
    assert.equal(fixture.discovery.get("fresh.eu-west-1.acme"), found, "registered: the next call needs no lookup");
    assert.equal(fixture.discovery.sourceOf("fresh.eu-west-1.acme"), "acme");
    await fixture.poll(300_000, 2);
    assert.ok(fixture.discovery.get("fresh.eu-west-1.acme"));
    assert.equal(fixture.lines("discovered cluster added").filter((l) => l.cluster_id === "fresh.eu-west-1.acme").length, 1);
    assert.equal(await fixture.metric('cluster_token_discovery_lookups_total\\{account="acme",result="found"\\}'), 1);
  });

  it("remove a found cluster once complete listings of every scope no longer hold it", async () => {
    await started();
    fixture.cloud.add("eu-west-1", withAccess("brief", { env: "prod" }));
    await fixture.discovery.lookup("brief.eu-west-1.acme", signal());
    fixture.cloud.remove("eu-west-1", "brief");
    fixture.scheduler.clock.advance(1);
    await fixture.poll(300_000, 2);
    assert.equal(fixture.discovery.get("brief.eu-west-1.acme"), undefined);
  });

  it("make at most lookupBurst + lookupsPerSecond × T calls for 1,000 random unknown ids in T seconds; the rest are LOOKUP_THROTTLED", async () => {
    await started();
    const random = () => `${randomBytes(6).toString("hex")}.us-west-2.acme`;
    const first = await Promise.all(Array.from({ length: 1000 }, () => outcome(random())));
    assert.equal(fixture.cloud.lookups.length, 10, "the burst, and no more while time stands still");
    assert.equal(first.filter((o) => o === "unknown").length, 10);
    assert.equal(first.filter((o) => o === "LOOKUP_THROTTLED").length, 990);
    fixture.scheduler.clock.advance(5_000);
    await Promise.all(Array.from({ length: 1000 }, () => outcome(random())));
    assert.equal(fixture.cloud.lookups.length, 15, "five more after five seconds at one a second");
    assert.equal(await fixture.metric('cluster_token_discovery_lookups_total\\{account="acme",result="throttled"\\}'), 1985);
  });

  it("answer an id not found from memory for unknownIdCacheSeconds, then ask again", async () => {
    await started({ accountDiscovery: { unknownIdCacheSeconds: 30 } });
    for (let i = 0; i < 100; i++) assert.equal(await outcome("ghost.us-west-2.acme"), "unknown");
    assert.equal(fixture.cloud.lookups.length, 1);
    assert.equal(await fixture.metric('cluster_token_discovery_lookups_total\\{account="acme",result="unknown_id_cached"\\}'), 99);
    fixture.scheduler.clock.advance(30_000);
    fixture.cloud.add("us-west-2", withAccess("ghost", { env: "prod" }));
    assert.equal(await outcome("ghost.us-west-2.acme"), "ghost.us-west-2.acme");
    assert.equal(fixture.cloud.lookups.length, 2);
  });

  it("share one lookup among concurrent requests for one id", async () => {
    await started();
    fixture.cloud.add("us-west-2", withAccess("busy", { env: "prod" }));
    const all = await Promise.all(Array.from({ length: 50 }, () => outcome("busy.us-west-2.acme")));
    assert.deepEqual(new Set(all), new Set(["busy.us-west-2.acme"]));
    assert.equal(fixture.cloud.lookups.length, 1);
  });

  it("never ask the cloud for an id no account's template reads, or in a region the account does not have", async () => {
    await started();
    for (const id of ["web.ap-south-1.acme", "web.us-west-2.other", "plain", "a.b.c.d"]) assert.equal(await outcome(id), "unknown", id);
    assert.equal(fixture.cloud.lookups.length, 0);
  });

  it("do not register a cluster the account's filter leaves out, or one whose id is not the id asked for", async () => {
    await started();
    fixture.cloud.add("us-west-2", withAccess("devbox", { env: "dev" }), withAccess("Mixed_Case", { env: "prod" }));
    assert.equal(await outcome("devbox.us-west-2.acme"), "unknown");
    assert.equal(await outcome("mixed-case.us-west-2.acme"), "unknown", "the cloud has no cluster named mixed-case");
    assert.equal(fixture.discovery.get("devbox.us-west-2.acme"), undefined);
  });

  it("pass a failed lookup to the caller, not as NOT_FOUND, and do not remember it", async () => {
    await started();
    fixture.cloud.add("us-west-2", withAccess("later", { env: "prod" }));
    fixture.cloud.lookupFault = listingFailure("UPSTREAM_UNAVAILABLE");
    assert.equal(await outcome("later.us-west-2.acme"), "UPSTREAM_UNAVAILABLE");
    fixture.cloud.lookupFault = undefined;
    assert.equal(await outcome("later.us-west-2.acme"), "later.us-west-2.acme");
    assert.equal(await fixture.metric('cluster_token_discovery_lookups_total\\{account="acme",result="failed"\\}'), 1);
  });

  it("end a caller's wait at its own deadline or cancellation", async () => {
    await started();
    const controller = new AbortController();
    controller.abort(new DOMException("the caller's deadline passed", "TimeoutError"));
    const err = await fixture.discovery.lookup("any.us-west-2.acme", controller.signal).then(
      () => assert.fail("expected a rejection"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ServiceError);
    assert.equal(err.reason, "DEADLINE_EXCEEDED");
  });
});
