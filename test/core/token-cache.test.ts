import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ClusterOf } from "../../src/core/registered-cluster.js";
import { TokenCache } from "../../src/core/token-cache.js";
import type { MintedToken } from "../../src/drivers/driver.js";
import { FakeClock } from "../support/fake-clock.js";

const cluster = (id: string): ClusterOf<"aws"> => ({
  id,
  provider: "aws",
  region: "us-west-2",
  name: id,
  displayName: "",
  labels: {},
  credentials: "x",
});
const lifetimeMs = 14 * 60_000;

/** A minter that counts its calls and mints `token-<n>` valid for 14 minutes from `now`, once `gate` (if any) opens. */
function minter(now: () => number, gate?: Promise<void>) {
  const mint = async (): Promise<MintedToken> => {
    mint.calls++;
    await gate;
    return { token: `token-${mint.calls}`, expiresAt: new Date(now() + lifetimeMs) };
  };
  mint.calls = 0;
  return mint;
}

/** A promise the test opens when it chooses: mints held on it are surely in flight. */
function gate(): { opened: Promise<void>; open(): void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe("TokenCache", () => {
  it("reuses a caller's token while at least 3/4 of its lifetime remains, reporting its true expiry", async () => {
    const clock = new FakeClock();
    const cache = new TokenCache({ maxEntries: 10, attemptTimeoutMs: 1_000, clock });
    const mint = minter(() => clock.now());
    const first = await cache.get("key:a", "x", cluster("c1"), AbortSignal.timeout(1_000), mint);
    clock.advance(lifetimeMs / 4 - 1_000);
    const again = await cache.get("key:a", "x", cluster("c1"), AbortSignal.timeout(1_000), mint);
    assert.equal(again, first, "the same token, with the same (true) expiry");
    assert.equal(mint.calls, 1);
    clock.advance(2_000);
    const fresh = await cache.get("key:a", "x", cluster("c1"), AbortSignal.timeout(1_000), mint);
    assert.notEqual(fresh.token, first.token, "less than 3/4 of its lifetime left: a new token");
    assert.equal(fresh.expiresAt.getTime(), clock.now() + lifetimeMs);
  });

  it("never shares a token between principals, between clusters or between identities", async () => {
    const cache = new TokenCache({ maxEntries: 10, attemptTimeoutMs: 1_000 });
    const mint = minter(Date.now);
    const a = await cache.get("key:a", "x", cluster("c1"), AbortSignal.timeout(1_000), mint);
    const b = await cache.get("cert:a", "x", cluster("c1"), AbortSignal.timeout(1_000), mint);
    const c = await cache.get("key:a", "x", cluster("c2"), AbortSignal.timeout(1_000), mint);
    const d = await cache.get("key:a", "readonly", cluster("c1"), AbortSignal.timeout(1_000), mint);
    assert.equal(new Set([a.token, b.token, c.token, d.token]).size, 4);
    assert.equal(cache.cached("key:a", "readonly", cluster("c1")), d);
    assert.equal(cache.cached("key:a", "x", cluster("c1")), a);
  });

  it("forgets every token minted as the identities named, whatever the cluster, and keeps none a mint under way returns", async () => {
    const cache = new TokenCache({ maxEntries: 10, attemptTimeoutMs: 1_000 });
    const mint = minter(Date.now);
    await cache.get("key:a", "rotated", cluster("c1"), AbortSignal.timeout(1_000), mint);
    await cache.get("key:b", "rotated", cluster("c2"), AbortSignal.timeout(1_000), mint);
    const kept = await cache.get("key:a", "x", cluster("c1"), AbortSignal.timeout(1_000), mint);
    const held = gate();
    const slow = minter(Date.now, held.opened);
    const underWay = cache.get("key:c", "rotated", cluster("c3"), AbortSignal.timeout(5_000), slow);
    await new Promise((resolve) => setImmediate(resolve));
    cache.forgetIdentities(new Set(["rotated"]));
    held.open();
    await underWay;
    assert.equal(cache.cached("key:a", "rotated", cluster("c1")), undefined);
    assert.equal(cache.cached("key:b", "rotated", cluster("c2")), undefined);
    assert.equal(cache.cached("key:c", "rotated", cluster("c3")), undefined, "minted before the change: handed out once, not kept");
    assert.equal(cache.cached("key:a", "x", cluster("c1")), kept, "another identity keeps its tokens");
  });

  it("mints once for 100 concurrent cold requests", async () => {
    const cache = new TokenCache({ maxEntries: 10, attemptTimeoutMs: 1_000 });
    const held = gate();
    const mint = minter(Date.now, held.opened);
    const cold = Promise.all(Array.from({ length: 100 }, () => cache.get("key:a", "x", cluster("c1"), AbortSignal.timeout(5_000), mint)));
    held.open();
    const tokens = await cold;
    assert.equal(mint.calls, 1);
    assert.equal(new Set(tokens.map((t) => t.token)).size, 1);
  });

  it("keeps at most maxEntries tokens, whatever callers and clusters ask: the least recently minted go first", async () => {
    const cache = new TokenCache({ maxEntries: 50, attemptTimeoutMs: 1_000 });
    const mint = minter(Date.now);
    for (let i = 0; i < 500; i++) await cache.get(`key:p${i}`, "x", cluster(`c${i % 7}`), AbortSignal.timeout(1_000), mint);
    const kept = Array.from({ length: 500 }, (_, i) => cache.cached(`key:p${i}`, "x", cluster(`c${i % 7}`)) !== undefined);
    assert.deepEqual(kept, [...Array<boolean>(450).fill(false), ...Array<boolean>(50).fill(true)]);
  });

  it("forgets every caller's tokens of the clusters named, and keeps none a mint under way returns", async () => {
    const cache = new TokenCache({ maxEntries: 10, attemptTimeoutMs: 1_000 });
    const mint = minter(Date.now);
    const a1 = await cache.get("key:a", "x", cluster("c1"), AbortSignal.timeout(1_000), mint);
    await cache.get("key:b", "x", cluster("c1"), AbortSignal.timeout(1_000), mint);
    const a2 = await cache.get("key:a", "x", cluster("c2"), AbortSignal.timeout(1_000), mint);
    const held = gate();
    const slow = minter(Date.now, held.opened);
    const underWay = cache.get("key:c", "x", cluster("c1"), AbortSignal.timeout(5_000), slow);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(slow.calls, 1, "the mint is under way");
    cache.forgetClusters(new Set(["c1"]));
    held.open();
    await underWay;
    assert.equal(cache.cached("key:a", "x", cluster("c1")), undefined);
    assert.equal(cache.cached("key:b", "x", cluster("c1")), undefined);
    assert.equal(cache.cached("key:c", "x", cluster("c1")), undefined, "minted before the change was noticed: handed out once, not kept");
    assert.equal(cache.cached("key:a", "x", cluster("c2")), a2, "another cluster keeps its tokens");
    assert.notEqual((await cache.get("key:a", "x", cluster("c1"), AbortSignal.timeout(1_000), mint)).token, a1.token);
  });

  it("never caches a failure", async () => {
    const cache = new TokenCache({ maxEntries: 10, attemptTimeoutMs: 1_000 });
    let fail = true;
    const mint = async (): Promise<MintedToken> => {
      if (fail) throw new Error("upstream down");
      return { token: "ok", expiresAt: new Date(Date.now() + lifetimeMs) };
    };
    await assert.rejects(cache.get("key:a", "x", cluster("c1"), AbortSignal.timeout(1_000), mint), /upstream down/);
    fail = false;
    assert.equal((await cache.get("key:a", "x", cluster("c1"), AbortSignal.timeout(1_000), mint)).token, "ok");
  });
});
