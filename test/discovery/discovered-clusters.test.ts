import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RegisteredCluster } from "../../src/core/registered-cluster.js";
import type { Candidate } from "../../src/discovery/cluster-admission.js";
import { DiscoveredClusters } from "../../src/discovery/discovered-clusters.js";

const candidate = (id: string, fingerprint = "f1"): Candidate => ({
  id,
  cluster: Object.freeze({
    id,
    provider: "aws",
    region: "r",
    name: id,
    credentials: "c",
    labels: {},
    displayName: "",
  }) as RegisteredCluster,
  fingerprint,
  labelsDropped: 0,
});
const ids = (clusters: readonly { id: string }[]) => clusters.map((c) => c.id);
const regions = ["r1", "r2"];

describe("the discovered clusters", () => {
  it("adds, updates and removes by complete listings of a scope, and tells listeners what changed or went", () => {
    const store = new DiscoveredClusters();
    const told: string[][] = [];
    store.onChange((changed) => told.push([...changed].sort()));
    const first = store.applyListing("acme", "r1", regions, [candidate("b"), candidate("a"), candidate("c")], 0, 100);
    assert.deepEqual(ids(first.added).sort(), ["a", "b", "c"]);
    assert.equal(first.known, 3);
    assert.deepEqual(ids(store.sorted()), ["a", "b", "c"]);
    const kept = store.get("a");
    const second = store.applyListing("acme", "r1", regions, [candidate("a"), candidate("b", "f2")], 1, 100);
    assert.deepEqual([ids(second.added), ids(second.updated), ids(second.removed)], [[], ["b"], ["c"]]);
    assert.equal(store.get("a"), kept, "an unchanged cluster is the same object");
    assert.equal(store.get("c"), undefined);
    assert.deepEqual(told, [["b", "c"]]);
  });

  it("never touches another scope's or another account's clusters", () => {
    const store = new DiscoveredClusters();
    store.applyListing("acme", "r1", regions, [candidate("a")], 0, 100);
    store.applyListing("acme", "r2", regions, [candidate("b")], 0, 100);
    store.applyListing("other", "r1", ["r1"], [candidate("c")], 0, 100);
    const empty = store.applyListing("acme", "r1", regions, [], 1, 100);
    assert.deepEqual(ids(empty.removed), ["a"]);
    assert.deepEqual(ids(store.sorted()), ["b", "c"]);
    assert.equal(store.entry("b")?.scope, "r2");
    assert.equal(store.entry("c")?.account, "other");
  });

  it("lets a configured id win: such a cluster is removed, and refused by later listings", () => {
    const store = new DiscoveredClusters();
    store.applyListing("acme", "r1", regions, [candidate("a"), candidate("b")], 0, 100);
    assert.deepEqual(ids(store.setStaticIds(new Set(["a"]))), ["a"]);
    const next = store.applyListing("acme", "r1", regions, [candidate("a"), candidate("b")], 1, 100);
    assert.deepEqual(
      next.skipped.map((s) => [s.id, s.reason]),
      [["a", "static_id"]],
    );
    assert.equal(store.get("a"), undefined);
  });

  it("refuses an id another account, another scope or the same listing already has: the first keeps it", () => {
    const store = new DiscoveredClusters();
    store.applyListing("acme", "r1", regions, [candidate("a")], 0, 100);
    const other = store.applyListing("other", "r1", ["r1"], [candidate("a"), candidate("z")], 0, 100);
    assert.deepEqual(
      other.skipped.map((s) => [s.id, s.reason, s.detail]),
      [["a", "id_collision", "a cluster of account acme has this id"]],
    );
    const sameAccount = store.applyListing("acme", "r2", regions, [candidate("a"), candidate("d"), candidate("d", "f2")], 0, 100);
    assert.deepEqual(
      sameAccount.skipped.map((s) => [s.id, s.reason]),
      [
        ["a", "id_collision"],
        ["d", "id_collision"],
      ],
    );
    assert.equal(store.entry("a")?.account, "acme");
    assert.equal(store.entry("a")?.scope, "r1");
  });

  it("caps an account at maxClusters over all its scopes, keeping the first by id", () => {
    const store = new DiscoveredClusters();
    const many = Array.from({ length: 100 }, (_, i) => candidate(`c${String(i).padStart(3, "0")}`));
    const capped = store.applyListing("acme", "r1", regions, many, 0, 10);
    assert.equal(capped.known, 10);
    assert.deepEqual(ids(store.sorted()), ids(many.slice(0, 10)));
    assert.equal(capped.skipped.filter((s) => s.reason === "over_cap").length, 90);
    const second = store.applyListing("acme", "r2", regions, [candidate("x1"), candidate("x2")], 0, 10);
    assert.equal(second.known, 0, "the other scope has the account's ten");
    const smaller = store.applyListing("acme", "r1", regions, many.slice(0, 8), 1, 10);
    assert.equal(smaller.known, 8);
    assert.equal(store.applyListing("acme", "r2", regions, [candidate("x1"), candidate("x2"), candidate("x3")], 1, 10).known, 2);
  });

  it("registers a cluster a lookup found at once; a listing that holds it confirms it, and listings of every scope that do not remove it", () => {
    const store = new DiscoveredClusters();
    assert.equal(store.registerFound("acme", regions, candidate("new"), 100, 10), "added");
    assert.equal(store.get("new")?.id, "new");
    assert.equal(store.registerFound("acme", regions, candidate("new"), 100, 10), "known");
    assert.equal(store.registerFound("other", ["r1"], candidate("new"), 100, 10), "id_collision");
    // A listing that began before the lookup found it cannot tell.
    assert.deepEqual(ids(store.applyListing("acme", "r1", regions, [], 99, 10).removed), []);
    assert.deepEqual(ids(store.applyListing("acme", "r1", regions, [], 101, 10).removed), []);
    assert.ok(store.get("new"), "r2 has not been listed since");
    assert.deepEqual(ids(store.applyListing("acme", "r2", regions, [], 102, 10).removed), ["new"]);
    assert.equal(store.get("new"), undefined);

    store.registerFound("acme", regions, candidate("again"), 200, 10);
    const confirmed = store.applyListing("acme", "r2", regions, [candidate("again")], 201, 10);
    assert.deepEqual([ids(confirmed.added), ids(confirmed.updated)], [[], []], "confirmed, not added twice");
    assert.equal(store.entry("again")?.scope, "r2");
    assert.deepEqual(ids(store.applyListing("acme", "r1", regions, [], 202, 10).removed), []);
  });

  it("refuses a found cluster past the cap or with a configured id", () => {
    const store = new DiscoveredClusters();
    store.setStaticIds(new Set(["cfg"]));
    assert.equal(store.registerFound("acme", regions, candidate("cfg"), 0, 10), "static_id");
    store.applyListing("acme", "r1", regions, [candidate("a"), candidate("b")], 0, 2);
    assert.equal(store.registerFound("acme", regions, candidate("c"), 1, 2), "over_cap");
  });

  it("drops an account's clusters, or only those of the scopes it no longer has", () => {
    const store = new DiscoveredClusters();
    store.applyListing("acme", "r1", regions, [candidate("a")], 0, 100);
    store.applyListing("acme", "r2", regions, [candidate("b")], 0, 100);
    store.applyListing("other", "r1", ["r1"], [candidate("c")], 0, 100);
    assert.deepEqual(ids(store.dropAccount("acme", ["r1"])), ["b"]);
    assert.deepEqual(ids(store.sorted()), ["a", "c"]);
    assert.deepEqual(ids(store.dropAccount("acme")), ["a"]);
    assert.deepEqual(ids(store.sorted()), ["c"]);
    assert.equal(store.countOf("acme"), 0);
  });
});
