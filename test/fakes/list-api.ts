import { type Fault, type FakeReply, faultReply } from "./fake-http-server.js";

/**
 * The faults a fake cloud's list API injects per scope (a region, a subscription, a
 * resource group), as the lister contract drives them: a fault on page N of a
 * scope's listing, a scope the cloud refuses (403), a scope whose listing is partial
 * in the cloud's own way, and a first page whose next link points at another host.
 * The fake asks these at each request; `reset` clears them all.
 */
export class ListFaults {
  private readonly pages = new Map<string, { page: number; fault: Fault }>();
  private readonly denied = new Set<string>();
  private readonly partial = new Set<string>();
  private readonly foreign = new Map<string, string>();

  failPage(scope: string, page: number, fault: Fault): void {
    this.pages.set(scope, { page, fault });
  }

  deny(scope: string): void {
    this.denied.add(scope);
  }

  makePartial(scope: string): void {
    this.partial.add(scope);
  }

  foreignNext(scope: string, url: string): void {
    this.foreign.set(scope, url);
  }

  /** The reply that replaces page `page` (from 1) of `scope`'s listing, if a fault was set for it. */
  pageFault(scope: string, page: number): FakeReply | undefined {
    const set = this.pages.get(scope);
    if (set?.page !== page) return undefined;
    if ("status" in set.fault || "garbage" in set.fault) return faultReply(set.fault);
    throw new Error("a page fault is a status or garbage; hold, hang and delay apply to the whole server");
  }

  /** True when any of `scopes` (a scope and the scopes that contain it) is refused. */
  isDenied(...scopes: string[]): boolean {
    return scopes.some((scope) => this.denied.has(scope));
  }

  isPartial(scope: string): boolean {
    return this.partial.has(scope);
  }

  foreignNextOf(scope: string): string | undefined {
    return this.foreign.get(scope);
  }

  reset(): void {
    this.pages.clear();
    this.denied.clear();
    this.partial.clear();
    this.foreign.clear();
  }
}

/**
 * Requests a fake cloud's APIs received, by operation ("managedClusters.list",
 * "DescribeClustersV1", …), so that tests and benchmarks check what a poll or a
 * lookup costs. Token endpoints are not counted: they are the credentials' cost.
 */
export class ApiCounts {
  private readonly counts = new Map<string, number>();

  add(operation: string): void {
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
  }

  /** Requests of `operation` so far. */
  of(operation: string): number {
    return this.counts.get(operation) ?? 0;
  }

  /** Requests of every operation so far. */
  total(): number {
    let sum = 0;
    for (const count of this.counts.values()) sum += count;
    return sum;
  }

  reset(): void {
    this.counts.clear();
  }
}

/** A JSON reply. */
export function jsonReply(status: number, body: unknown): FakeReply {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

/**
 * The clusters a fake cloud knows, by its own key, with what its list API needs
 * around them: the faults it injects, the requests it counts, and sorted views of
 * the clusters, one per query (a scope, a filter), built once and kept until the
 * clusters change. A listing of N clusters in pages of p then costs the fake
 * N log N once and p per page, not N per page, so that benchmarks of 10,000
 * clusters measure the service rather than the fake. Clusters can be put and
 * deleted while the fake serves, as in a cloud where they are created and deleted.
 */
export class FakeClusters<T> {
  readonly faults = new ListFaults();
  readonly counts = new ApiCounts();
  private readonly clusters: Map<string, T>;
  private readonly views = new Map<string, readonly unknown[]>();

  constructor(initial: Readonly<Record<string, T>> = {}) {
    this.clusters = new Map(Object.entries(initial));
  }

  get(key: string): T | undefined {
    return this.clusters.get(key);
  }

  /** Every cluster, by key. */
  entries(): [string, T][] {
    return [...this.clusters];
  }

  /** Creates or replaces a cluster, seen by the next request. */
  put(key: string, cluster: T): void {
    this.clusters.set(key, cluster);
    this.views.clear();
  }

  delete(key: string): void {
    this.clusters.delete(key);
    this.views.clear();
  }

  /** The view of `query`, built by `build` unless it is kept since the last change. */
  view<V>(query: string, build: () => V[]): readonly V[] {
    let view = this.views.get(query) as readonly V[] | undefined;
    if (!view) {
      view = build();
      this.views.set(query, view);
    }
    return view;
  }

  /** Deletes every cluster, and clears faults and counts. */
  reset(): void {
    this.clusters.clear();
    this.views.clear();
    this.faults.reset();
    this.counts.reset();
  }
}

/** The index of the first of `sorted` (ascending by `key`) whose key is above `after`. */
export function firstAbove(sorted: readonly { key: string }[], after: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] as { key: string }).key > after) high = middle;
    else low = middle + 1;
  }
  return low;
}
