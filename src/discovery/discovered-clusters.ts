import type { RegisteredCluster } from "../core/registered-cluster.js";
import type { Candidate, Refusal, SkipReason } from "./cluster-admission.js";
import { reconcile } from "./reconciler.js";

/** A discovered cluster, and which account and scope found it. */
export interface KnownCluster {
  readonly id: string;
  readonly cluster: RegisteredCluster;
  readonly account: string;
  /** The scope whose listings hold it; undefined while only a lookup has found it. */
  readonly scope: string | undefined;
  /** What the cloud said of it; see {@link Candidate.fingerprint}. */
  readonly fingerprint: string;
}

/** What a complete listing of one scope changed, and what it could not register. */
export interface ListingChanges {
  readonly added: readonly KnownCluster[];
  readonly updated: readonly KnownCluster[];
  readonly removed: readonly KnownCluster[];
  readonly skipped: readonly Refusal[];
  /** How many clusters the scope holds now. */
  readonly known: number;
}

/** A cluster a lookup registered: the scopes whose complete listings, started after it was found, have yet to hold it. */
interface Unconfirmed {
  readonly known: KnownCluster;
  readonly foundAt: number;
  readonly unlisted: Set<string>;
}

const byId = (a: RegisteredCluster, b: RegisteredCluster) => Number(a.id > b.id) - Number(a.id < b.id);

/**
 * Every discovered cluster of the process, by id: what the listings of each scope
 * held last, and what lookups found since. Each scope's clusters change only with
 * a complete listing of that scope, reconciled against what it held before; a
 * configured id always wins; an id is never shared by two discovered clusters (the
 * first keeps it, the other is refused and reported); an account never holds more
 * than its cap. Reads are Map lookups, for the hot path.
 */
export class DiscoveredClusters {
  private readonly clusters = new Map<string, KnownCluster>();
  /** account → scope → the clusters its last complete listing held. */
  private readonly scopes = new Map<string, Map<string, Map<string, KnownCluster>>>();
  private readonly unconfirmed = new Map<string, Unconfirmed>();
  private readonly listeners = new Set<(ids: ReadonlySet<string>) => void>();
  private staticIds: ReadonlySet<string> = new Set();
  private sortedCache: readonly RegisteredCluster[] | undefined;
  /** Counts every change, so that views built from the clusters know when to rebuild. */
  version = 0;

  /** The discovered cluster with this id: one Map lookup. */
  get(id: string): RegisteredCluster | undefined {
    return this.clusters.get(id)?.cluster;
  }

  /** The discovered cluster with this id and where it came from. */
  entry(id: string): KnownCluster | undefined {
    return this.clusters.get(id);
  }

  /** Every discovered cluster, sorted by id; rebuilt only after a change. */
  sorted(): readonly RegisteredCluster[] {
    this.sortedCache ??= [...this.clusters.values()].map((known) => known.cluster).sort(byId);
    return this.sortedCache;
  }

  /** How many clusters `account` holds now, listed and looked up. */
  countOf(account: string): number {
    let count = 0;
    for (const scope of this.scopes.get(account)?.values() ?? []) count += scope.size;
    for (const { known } of this.unconfirmed.values()) if (known.account === account) count++;
    return count;
  }

  /** Tells `listener` the ids of clusters changed or removed, for caches keyed by id; returns how to stop. */
  onChange(listener: (ids: ReadonlySet<string>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Sets the ids of the `clusters` entries, which win over discovered ones: a
   * discovered cluster that has one is removed now, and refused by later listings.
   */
  setStaticIds(ids: ReadonlySet<string>): KnownCluster[] {
    this.staticIds = ids;
    return this.removeWhere((known) => ids.has(known.id));
  }

  /**
   * Applies a complete listing of `scope` of `account` (one started at `startedAt`,
   * whose candidates are `candidates`): at most `maxClusters` for the account, the
   * first by id (between two candidates with one id, the first listed wins); what it no longer holds is removed, and so is a cluster a lookup
   * found before the listing started when no listing of any of the account's
   * `scopes` has held it since.
   */
  applyListing(
    account: string,
    scope: string,
    scopes: readonly string[],
    candidates: readonly Candidate[],
    startedAt: number,
    maxClusters: number,
  ): ListingChanges {
    const previous = this.scopes.get(account)?.get(scope) ?? new Map<string, KnownCluster>();
    const next = new Map<string, KnownCluster>();
    const skipped: Refusal[] = [];
    const skip = (id: string, reason: SkipReason, detail: string) => skipped.push({ id, reason, detail });
    const room = maxClusters - this.heldElsewhere(account, scope, candidates);
    // Sorting 10,000 ids costs about 10 ms: only a listing that overflows the cap needs "the first by id".
    const ordered = candidates.length > room ? [...candidates].sort((a, b) => (a.id < b.id ? -1 : Number(a.id > b.id))) : candidates;
    for (const candidate of ordered) {
      const { id } = candidate;
      const owner = this.clusters.get(id);
      if (this.staticIds.has(id)) skip(id, "static_id", "a clusters entry has this id");
      else if (next.has(id)) skip(id, "id_collision", "another cluster of the same listing has this id");
      else if (owner && (owner.account !== account || (owner.scope !== undefined && owner.scope !== scope)))
        skip(id, "id_collision", `a cluster of account ${owner.account} has this id`);
      else if (next.size >= room) skip(id, "over_cap", `the account has ${maxClusters} clusters (maxClusters)`);
      else {
        const before = previous.get(id);
        // What the cloud says the same of stays the same object.
        next.set(
          id,
          before?.fingerprint === candidate.fingerprint
            ? before
            : { id, cluster: candidate.cluster, account, scope, fingerprint: candidate.fingerprint },
        );
      }
    }
    const change = reconcile(previous, next, (a, b) => a.fingerprint === b.fingerprint);
    const changed = new Set<string>();
    const added: KnownCluster[] = [];
    const updated = [...change.updated];
    for (const known of change.added) {
      const pending = this.unconfirmed.get(known.id);
      this.unconfirmed.delete(known.id);
      // A cluster a lookup found is confirmed, not added again.
      if (!pending) added.push(known);
      else if (pending.known.fingerprint !== known.fingerprint) updated.push(known);
      this.clusters.set(known.id, known);
    }
    for (const known of change.updated) this.clusters.set(known.id, known);
    for (const known of change.removed) this.clusters.delete(known.id);
    const scopesOf = this.scopes.get(account) ?? new Map<string, Map<string, KnownCluster>>();
    this.scopes.set(account, scopesOf);
    scopesOf.set(scope, next);
    const removed = [...change.removed, ...this.unlistedLookups(account, scope, scopes, startedAt)];
    for (const known of [...updated, ...removed]) changed.add(known.id);
    if (added.length + changed.size > 0) this.changed(changed);
    return { added, updated, removed, skipped, known: next.size };
  }

  /**
   * Registers a cluster a lookup found, at once, until the account's listings
   * confirm it: "added", "known" when the account already holds it (a listing was
   * quicker), or why it cannot be registered.
   */
  registerFound(
    account: string,
    scopes: readonly string[],
    candidate: Candidate,
    foundAt: number,
    maxClusters: number,
  ): "added" | "known" | SkipReason {
    const owner = this.clusters.get(candidate.id);
    if (this.staticIds.has(candidate.id)) return "static_id";
    if (owner) return owner.account === account ? "known" : "id_collision";
    if (this.countOf(account) >= maxClusters) return "over_cap";
    const known: KnownCluster = {
      id: candidate.id,
      cluster: candidate.cluster,
      account,
      scope: undefined,
      fingerprint: candidate.fingerprint,
    };
    this.unconfirmed.set(candidate.id, { known, foundAt, unlisted: new Set(scopes) });
    this.clusters.set(candidate.id, known);
    this.changed(new Set());
    return "added";
  }

  /** Removes every cluster of `account`, or only those of the scopes not in `keep`; returns what was removed. */
  dropAccount(account: string, keep?: readonly string[]): KnownCluster[] {
    const kept = new Set(keep);
    const removed = this.removeWhere(
      (known) => known.account === account && (keep === undefined || known.scope === undefined || !kept.has(known.scope)),
    );
    const scopesOf = this.scopes.get(account);
    for (const scope of scopesOf?.keys() ?? []) if (!kept.has(scope)) scopesOf?.delete(scope);
    if (scopesOf?.size === 0) this.scopes.delete(account);
    return removed;
  }

  /** How many clusters `account` holds outside `scope`: in its other scopes, and found by lookups this listing does not hold. */
  private heldElsewhere(account: string, scope: string, candidates: readonly Candidate[]): number {
    let count = 0;
    for (const [other, clusters] of this.scopes.get(account) ?? []) if (other !== scope) count += clusters.size;
    const listed = new Set(candidates.map((candidate) => candidate.id));
    for (const { known } of this.unconfirmed.values()) if (known.account === account && !listed.has(known.id)) count++;
    return count;
  }

  /** Clusters a lookup found before this listing started that no listing of the account has held since: gone. */
  private unlistedLookups(account: string, scope: string, scopes: readonly string[], startedAt: number): KnownCluster[] {
    const gone: KnownCluster[] = [];
    for (const [id, pending] of this.unconfirmed) {
      if (pending.known.account !== account || pending.foundAt >= startedAt) continue;
      pending.unlisted.delete(scope);
      for (const listed of pending.unlisted) if (!scopes.includes(listed)) pending.unlisted.delete(listed);
      if (pending.unlisted.size > 0) continue;
      this.unconfirmed.delete(id);
      this.clusters.delete(id);
      gone.push(pending.known);
    }
    return gone;
  }

  private removeWhere(matches: (known: KnownCluster) => boolean): KnownCluster[] {
    const removed: KnownCluster[] = [];
    for (const known of this.clusters.values()) {
      if (!matches(known)) continue;
      removed.push(known);
      this.clusters.delete(known.id);
      this.unconfirmed.delete(known.id);
      if (known.scope !== undefined) this.scopes.get(known.account)?.get(known.scope)?.delete(known.id);
    }
    if (removed.length > 0) this.changed(new Set(removed.map((known) => known.id)));
    return removed;
  }

  private changed(ids: ReadonlySet<string>): void {
    this.version++;
    this.sortedCache = undefined;
    if (ids.size > 0) for (const listener of this.listeners) listener(ids);
  }
}
