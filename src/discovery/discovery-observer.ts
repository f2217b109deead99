import type { LookupResult } from "./account-lookups.js";
import type { SkipReason } from "./cluster-admission.js";

/**
 * What account discovery reports as it works, per account and scope; the server
 * wires it to metrics, so the discovery knows nothing of Prometheus. Account ids
 * and scopes come from the config, never from a request or a cloud's answer.
 */
export interface DiscoveryObserver {
  /** A complete listing of `scope` was applied at `atMs`: the scope holds `known` clusters now. */
  listingSucceeded(account: string, scope: string, known: number, atMs: number): void;
  /** A listing of `scope` failed (`code` is grpc-go's name of its status, `reason` its error reason); nothing was removed. */
  listingFailed(account: string, scope: string, code: string, reason: string): void;
  /** What the last complete listing of `scope` could not register, by reason, and how many tags it did not keep as labels. */
  skipped(account: string, scope: string, counts: ReadonlyMap<SkipReason, number>, labelsDropped: number): void;
  /** One lookup of an unknown id of `account` ended so. */
  lookup(account: string, result: LookupResult): void;
  /** The figures of `scopes` of `account` go (scopes it no longer has); all of the account's when `scopes` is absent (it was removed). */
  forget(account: string, scopes?: readonly string[]): void;
}
