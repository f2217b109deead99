import { type Clock, systemClock } from "../common/clock.js";
import { TtlCache } from "../common/ttl-cache.js";
import type { MintedToken } from "../drivers/driver.js";
import type { RegisteredCluster } from "./registered-cluster.js";

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
  /** The clock tokens are signed with, so that "most of its lifetime remains" means the same to both; the system clock when absent. */
  clock?: Clock;
}

/**
 * The key of a caller's token for a cluster, minted as a cloud identity. Neither
 * identity names nor cluster ids hold the separator, so the id is what follows the
 * last one and the identity what lies between the last two.
 */
function cacheKey(principal: string, identity: string, clusterId: string): string {
  return `${principal}\u0000${identity}\u0000${clusterId}`;
}

function clusterOfKey(key: string): string {
  return key.slice(key.lastIndexOf("\u0000") + 1);
}

function identityOfKey(key: string): string {
  const last = key.lastIndexOf("\u0000");
  return key.slice(key.lastIndexOf("\u0000", last - 1) + 1, last);
}

/**
 * Reuses a minted token for the same caller, cloud identity and cluster while most
 * of its lifetime remains, and mints once for concurrent cold requests. The cache
 * never hands one principal's token to another, nor one identity's token to a call
 * that uses another. The cloud may still give two principals the same token (a token
 * signed over the keys, the cluster and the current second is the same for everyone
 * served in that second, and an access token that a cloud SDK caches is the same for
 * everyone until it expires), so an audit fingerprint names a token, and the audit
 * log names every caller that received it (see docs/security.md, "Audit log").
 * Tokens live only in this process's memory, bounded in number, and the expiry
 * reported is always the token's own. Each service (each reload) has its own cache,
 * so a reload serves no token minted before it.
 */
export class TokenCache {
  private readonly cache: TtlCache<string, MintedToken>;
  private readonly clock: Clock;
  /**
   * How often each cluster's (`c` and its id) and each identity's (`i` and its name)
   * tokens were forgotten while mints were under way: a mint that began before the
   * last time is not kept. Cleared whenever no mint is under way, so that it holds at
   * most the clusters and identities forgotten during mints.
   */
  private readonly generations = new Map<string, number>();
  private minting = 0;

  constructor({ maxEntries, attemptTimeoutMs, clock = systemClock }: TokenCacheOptions) {
    this.cache = new TtlCache({ maxEntries, attemptTimeoutMs, clock });
    this.clock = clock;
  }

  /** The cached token of `principal` for `cluster` as `identity` while it may be reused, without waiting: the hot path. */
  cached(principal: string, identity: string, cluster: RegisteredCluster): MintedToken | undefined {
    return this.cache.fresh(cacheKey(principal, identity, cluster.id));
  }

  /**
   * The token of `principal` for `cluster` as `identity`: a cached one, or what
   * `mint` returns. Rejects with `signal.reason` when the caller's signal aborts first.
   */
  get(
    principal: string,
    identity: string,
    cluster: RegisteredCluster,
    signal: AbortSignal,
    mint: (signal: AbortSignal) => Promise<MintedToken>,
  ): Promise<MintedToken> {
    return this.cache.get(cacheKey(principal, identity, cluster.id), signal, async (attemptSignal) => {
      const [clusterKey, identityKey] = [`c${cluster.id}`, `i${identity}`];
      const generations = [this.generations.get(clusterKey), this.generations.get(identityKey)];
      this.minting++;
      let minted: MintedToken;
      let changed: boolean;
      try {
        minted = await mint(attemptSignal);
      } finally {
        this.minting--;
        changed = this.generations.get(clusterKey) !== generations[0] || this.generations.get(identityKey) !== generations[1];
        // Also when the mint failed: the last mint under way, whatever its end, leaves nothing behind.
        if (this.minting === 0) this.generations.clear();
      }
      // Minted with what the credentials (or the cluster) were before they changed: hand it to those who asked, but keep it for nobody.
      if (changed) return { value: minted, expiresAt: 0 };
      const issuedAt = this.clock.now();
      return { value: minted, expiresAt: issuedAt + (minted.expiresAt.getTime() - issuedAt) * reuseShareOfLifetime };
    });
  }

  /**
   * Forgets every token of `clusterIds`, for every caller, and keeps none that a mint
   * already under way returns: their credentials changed (a key file was rewritten),
   * or a discovered cluster changed or went, so tokens minted before must not be
   * handed out again.
   */
  forgetClusters(clusterIds: ReadonlySet<string>): void {
    this.nextGeneration("c", clusterIds);
    this.cache.deleteWhere((key) => clusterIds.has(clusterOfKey(key)));
  }

  /**
   * Forgets every token minted as one of `identities` (names of `credentials`
   * entries), for every caller and cluster, and keeps none that a mint already under
   * way returns: their keys changed, so tokens signed before must not be handed out
   * again, whichever cluster they were for.
   */
  forgetIdentities(identities: ReadonlySet<string>): void {
    this.nextGeneration("i", identities);
    this.cache.deleteWhere((key) => identities.has(identityOfKey(key)));
  }

  private nextGeneration(kind: "c" | "i", names: ReadonlySet<string>): void {
    if (this.minting === 0) return;
    for (const name of names) this.generations.set(`${kind}${name}`, (this.generations.get(`${kind}${name}`) ?? 0) + 1);
  }
}
