import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ClusterRegistry, type DiscoveredSource } from "../../src/core/cluster-registry.js";
import type { RegisteredCluster } from "../../src/core/registered-cluster.js";

const cluster = (id: string, name = id) =>
  ({ id, provider: "aws", region: "r", name, credentials: "c", labels: {}, displayName: "" }) as RegisteredCluster;

/** Discovered clusters the test sets, counting lookups. */
class Discovered implements DiscoveredSource {
  clusters: RegisteredCluster[] = [];
  version = 0;
  lookups: string[] = [];
  found: RegisteredCluster | undefined;
  get(id: string) {
    return this.clusters.find((c) => c.id === id);
  }
  sorted() {
    return [...this.clusters].sort((a, b) => (a.id < b.id ? -1 : 1));
  }
  sourceOf(id: string) {
    return this.get(id) ? "acme" : undefined;
  }
  async lookup(id: string) {
    this.lookups.push(id);
    return this.found;
  }
}

describe("the cluster registry", () => {
  it("lists configured and discovered clusters as one list sorted by id, a configured id winning", () => {
    const discovered = new Discovered();
    discovered.clusters = [cluster("m.acme"), cluster("b"), cluster("z.acme")];
    const configured = [cluster("y"), cluster("b", "configured"), cluster("a")];
    const registry = new ClusterRegistry(configured, discovered);
    assert.deepEqual(
      registry.list().map((c) => [c.id, c.name]),
      [
        ["a", "a"],
        ["b", "configured"],
        ["m.acme", "m.acme"],
        ["y", "y"],
        ["z.acme", "z.acme"],
      ],
    );
    assert.equal((registry.get("b") as { name?: string }).name, "configured");
    assert.equal(registry.source(registry.get("b") as RegisteredCluster), "config");
    assert.equal(registry.source(registry.get("m.acme") as RegisteredCluster), "acme");
  });

  it("rebuilds its list only when discovery changed something", () => {
    const discovered = new Discovered();
    discovered.clusters = [cluster("d")];
    const registry = new ClusterRegistry([cluster("c")], discovered);
    const first = registry.list();
    assert.equal(registry.list(), first, "the same array while nothing changed");
    discovered.clusters.push(cluster("a"));
    assert.equal(registry.list(), first, "a change not yet announced by the version");
    discovered.version++;
    assert.deepEqual(
      registry.list().map((c) => c.id),
      ["a", "c", "d"],
    );
  });

  it("finds a registered cluster without asking, and asks the accounts only for an id it does not have", async () => {
    const discovered = new Discovered();
    discovered.clusters = [cluster("d")];
    const registry = new ClusterRegistry([cluster("c")], discovered);
    const signal = new AbortController().signal;
    assert.equal((await registry.find("c", signal))?.id, "c");
    assert.equal((await registry.find("d", signal))?.id, "d");
    assert.deepEqual(discovered.lookups, []);
    discovered.found = cluster("fresh");
    assert.equal((await registry.find("fresh", signal))?.id, "fresh");
    assert.deepEqual(discovered.lookups, ["fresh"]);
  });

  it("serves configured clusters alone without discovery", async () => {
    const registry = ClusterRegistry.fromConfig([cluster("b"), cluster("a")] as never);
    assert.deepEqual(
      registry.list().map((c) => c.id),
      ["a", "b"],
    );
    assert.equal(await registry.find("x", new AbortController().signal), undefined);
  });
});
