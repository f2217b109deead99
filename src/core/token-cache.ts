import type { MintedToken } from "../drivers/driver.js";
import type { RegisteredCluster } from "./registered-cluster.js";
import { TtlCache } from "./ttl-cache.js";

/**
 * The share of a token's lifetime during which it is handed out again: a cached
 * token is served only while at least three quarters of its lifetime remain, so a
 * caller always gets most of the lifetime the cloud allows (an EKS token minted
 * at 12:00 and valid until 12:14 is reused until 12:03:30).
 */
export const reuseShareOfLifetime = 0.25;

/** Options of {@link TokenCache}. */
export interface TokenCacheOptions {
  /** The most tokens kept, across all principals and clusters. */
  maxEntries: number;
  /** How long one shared mint may take; see `SingleFlight`. */
  attemptTimeoutMs: number;
  /** The clock, in ms since the epoch; tests pin it. */
  now?: () => number;
}

function cacheKey(principal: string, cluster: RegisteredCluster): string {
  return `${principal}\u0000${cluster.id}`;
}

/**
 * Reuses a minted token for the same caller and cluster while most of its lifetime
 * remains, and mints once for concurrent cold requests. A token is never shared
 * between principals, so every audit fingerprint still points at exactly one
 * caller. Tokens live only in this process's memory, bounded in number, and the
 * expiry reported is always the token's own.
 */
export class TokenCache {
  private readonly cache: TtlCache<string, MintedToken>;
  private readonly now: () => number;

  constructor({ maxEntries, attemptTimeoutMs, now = Date.now }: TokenCacheOptions) {
    this.cache = new TtlCache({ maxEntries, attemptTimeoutMs, now });
    this.now = now;
  }

  /** The cached token of `principal` for `cluster` while it may be reused, without waiting: the hot path. */
  cached(principal: string, cluster: RegisteredCluster): MintedToken | undefined {
    return this.cache.fresh(cacheKey(principal, cluster));
  }

  /**
   * The token of `principal` for `cluster`: a cached one, or what `mint` returns.
   * Rejects with `signal.reason` when the caller's signal aborts first.
   */
  get(
    principal: string,
    cluster: RegisteredCluster,
    signal: AbortSignal,
    mint: (signal: AbortSignal) => Promise<MintedToken>,
  ): Promise<MintedToken> {
    return this.cache.get(cacheKey(principal, cluster), signal, async (attemptSignal) => {
      const minted = await mint(attemptSignal);
      const issuedAt = this.now();
      return { value: minted, expiresAt: issuedAt + (minted.expiresAt.getTime() - issuedAt) * reuseShareOfLifetime };
    });
  }

  /** How many tokens are kept. */
  get size(): number {
    return this.cache.size;
  }
}
