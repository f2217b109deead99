import type { AccountBase } from "../../src/config/schema-parts.js";
import type { ClusterLister } from "../../src/drivers/cluster-lister.js";
import type { Fault, FakeServer } from "../fakes/fake-http-server.js";
import type { FakeClock } from "../support/fake-clock.js";

// The harness a cloud gives the lister contract suite (`listertest.ts`).

/** What the suite needs of the provider module under test. */
export interface ListerProvider<A extends AccountBase> {
  readonly name: string;
  /** A listed cluster's `entry`, completed by the core, must pass this schema. */
  readonly clusterSchema: { safeParse(value: unknown): { success: boolean; error?: unknown } };
  readonly discovery?: { scopes(account: A): readonly string[] } | undefined;
}

/**
 * The fake cloud behind a lister, as the suite drives it. Scopes are the strings the
 * provider's `discovery.scopes(account)` returns for the harness's account.
 */
export interface ListerFake {
  /** The fake's server: `fault` for every request, and `hold`/`received`/`release` for calls in flight. */
  readonly server: FakeServer;
  /**
   * Creates a cluster in a scope of the cloud, or replaces it (a relabelling), with
   * the tags (labels on GKE) given; returns the region or location the cloud reports
   * for it. Seen by the next request, as for a cluster created while the service runs.
   */
  addCluster(scope: string, name: string, labels?: Readonly<Record<string, string>>): string;
  /** Deletes a cluster of a scope from the cloud. */
  removeCluster(scope: string, name: string): void;
  /** Answers the `page`-th request (from 1) of the listing of `scope` with `fault`, every time, until `reset`. */
  failPage(scope: string, page: number, fault: Fault): void;
  /** Refuses every request about `scope` with 403, as a cloud denying the credentials one region or project. */
  denyScope(scope: string): void;
  /** Makes every listing of `scope` partial in the cloud's own way (GKE: `missingZones`; a page without its list). */
  partialScope(scope: string): void;
  /**
   * Makes the first page of `scope`'s listing point its next page at `url`, another
   * host: for clouds whose pages are links (ARM's `nextLink`). Absent where pages are
   * opaque tokens or numbers.
   */
  foreignNextPage?(scope: string, url: string): void;
  /** The requests the cloud's cluster APIs (list, get, tags; not token endpoints) have received so far. */
  apiRequests(): number;
  /** Deletes every cluster and clears every fault. */
  reset(): void;
}

/** A listing's size, for a harness to say what it costs. */
export interface ListingSize {
  /** Clusters in the scope. */
  clusters: number;
  /** Clusters that match the account's filter (all of them without one). */
  matching: number;
  /** Clusters that carry any tag or label (a bulk tag API may report only those). */
  labelled: number;
  /** Whether the account has `tags`. */
  filtered: boolean;
}

/** What a cloud's harness sets up: its lister and its fake on one fake clock. */
export interface ListerHarnessEnv<A extends AccountBase> {
  /** The clock the lister and the fake's verifiers share. */
  clock: FakeClock;
  provider: ListerProvider<A>;
  /** Builds a fresh lister against the fake, on `clock`, so no cached credential hides an upstream call. */
  newLister(): ClusterLister<A>;
  /** An account of the fake cloud with at least two scopes and no filter. */
  account: A;
  /** The same account with credentials that reference a secret that cannot be resolved. */
  brokenAccount: A;
  fake: ListerFake;
  /** The exact API requests a complete listing of one scope costs, the cloud's formula (tested equal). */
  requestsPerListing(size: ListingSize): number;
  /** The most API requests one lookup may cost. */
  maxRequestsPerLookup: number;
  /** Strings that must never appear in an error: secrets and keys of the harness. */
  secrets: string[];
  close(): Promise<void>;
}

/** A cloud's lister harness. */
export interface ListerHarness<A extends AccountBase> {
  name: string;
  /** The most clusters one page of the fake holds when the cloud's list API pages; absent when one answer holds a whole scope. */
  pageSize?: number;
  /**
   * False for a cloud whose clusters carry no tags or labels at all (NKS): the suite
   * then expects every listed cluster's labels to be empty, and skips the filter
   * checks, since such a cloud's account schema refuses a filter.
   */
  labels?: false;
  setUp(): Promise<ListerHarnessEnv<A>>;
}
