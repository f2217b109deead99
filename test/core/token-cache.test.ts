import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ClusterOf } from "../../src/core/registered-cluster.js";
import { TokenCache } from "../../src/core/token-cache.js";
import type { MintedToken } from "../../src/drivers/driver.js";

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

/** A minter that counts its calls and mints `token-<n>` valid for 14 minutes from `now`. */
function minter(now: () => number, delayMs = 0) {
  const mint = async (): Promise<MintedToken> => {
    mint.calls++;
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    return { token: `token-${mint.calls}`, expiresAt: new Date(now() + lifetimeMs) };
  };
  mint.calls = 0;
  return mint;
}

describe("TokenCache", () => {
  it("reuses a caller's token while at least 3/4 of its lifetime remains, reporting its true expiry", async () => {
    let now = 1_000_000;
    const cache = new TokenCache({ maxEntries: 10, attemptTimeoutMs: 1_000, now: () => now });
    const mint = minter(() => now);
    const first = await cache.get("key:a", cluster("c1"), AbortSignal.timeout(1_000), mint);
    now += lifetimeMs / 4 - 1_000;
    const again = await cache.get("key:a", cluster("c1"), AbortSignal.timeout(1_000), mint);
    assert.equal(again, first, "the same token, with the same (true) expiry");
    assert.equal(mint.calls, 1);
    now += 2_000;
    const fresh = await cache.get("key:a", cluster("c1"), AbortSignal.timeout(1_000), mint);
    assert.notEqual(fresh.token, first.token, "less than 3/4 of its lifetime left: a new token");
    assert.equal(fresh.expiresAt.getTime(), now + lifetimeMs);
  });

  it("never shares a token between principals or between clusters", async () => {
    const cache = new TokenCache({ maxEntries: 10, attemptTimeoutMs: 1_000 });
    const mint = minter(Date.now);
    const a = await cache.get("key:a", cluster("c1"), AbortSignal.timeout(1_000), mint);
    const b = await cache.get("cert:a", cluster("c1"), AbortSignal.timeout(1_000), mint);
    const c = await cache.get("key:a", cluster("c2"), AbortSignal.timeout(1_000), mint);
    assert.equal(new Set([a.token, b.token, c.token]).size, 3);
  });

  it("mints once for 100 concurrent cold requests", async () => {
    const cache = new TokenCache({ maxEntries: 10, attemptTimeoutMs: 1_000 });
    const mint = minter(Date.now, 30);
    const tokens = await Promise.all(
      Array.from({ length: 100 }, () => cache.get("key:a", cluster("c1"), AbortSignal.timeout(1_000), mint)),
    );
    assert.equal(mint.calls, 1);
    assert.equal(new Set(tokens.map((t) => t.token)).size, 1);
  });

  it("keeps at most maxEntries tokens, whatever callers and clusters ask", async () => {
    const cache = new TokenCache({ maxEntries: 50, attemptTimeoutMs: 1_000 });
    const mint = minter(Date.now);
    for (let i = 0; i < 500; i++) await cache.get(`key:p${i}`, cluster(`c${i % 7}`), AbortSignal.timeout(1_000), mint);
    assert.equal(cache.size, 50);
  });

  it("never caches a failure", async () => {
    const cache = new TokenCache({ maxEntries: 10, attemptTimeoutMs: 1_000 });
    let fail = true;
    const mint = async (): Promise<MintedToken> => {
      if (fail) throw new Error("upstream down");
      return { token: "ok", expiresAt: new Date(Date.now() + lifetimeMs) };
    };
    await assert.rejects(cache.get("key:a", cluster("c1"), AbortSignal.timeout(1_000), mint), /upstream down/);
    fail = false;
    assert.equal((await cache.get("key:a", cluster("c1"), AbortSignal.timeout(1_000), mint)).token, "ok");
  });
});
