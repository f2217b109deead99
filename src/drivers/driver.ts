import type { Clock } from "../common/clock.js";
import type { ClusterBase } from "../config/schema-parts.js";
import type { ClusterLister } from "./cluster-lister.js";

/** A bearer token and the instant it stops being accepted. */
export interface MintedToken {
  readonly token: string;
  /** Never later than the cloud accepts the token, nor than the signing credential's own expiry. */
  readonly expiresAt: Date;
}

/** How to reach a cluster's API server: what a kubeconfig's cluster entry needs. */
export interface ClusterAccess {
  /** The API server URL, always https. */
  readonly server: string;
  /** Base64 PEM of the cluster CA. */
  readonly certificateAuthorityData: string;
}

/**
 * The "mint a token" capability. A driver reports failures as a `ServiceError` with
 * a portable code and never puts a secret or token into an error.
 */
export interface TokenDriver<C extends ClusterBase = ClusterBase> {
  /**
   * Mints a bearer token for `cluster` with the cloud's own scheme.
   *
   * @param signal aborted when the caller cancels or its deadline passes; a driver
   *   that calls its cloud must stop waiting then.
   */
  mintToken(cluster: C, signal: AbortSignal): Promise<MintedToken>;
}

/** The "describe a cluster" capability: where its API server is and which CA signs it. */
export interface ClusterDescriber<C extends ClusterBase = ClusterBase> {
  /** Asks the cloud's cluster API; same error and `signal` rules as {@link TokenDriver.mintToken}. */
  describeCluster(cluster: C, signal: AbortSignal): Promise<ClusterAccess>;
}

/** One cloud's drivers. A cloud may lack a capability; the service then answers FAILED_PRECONDITION. */
export interface ProviderDrivers<C extends ClusterBase = ClusterBase> {
  readonly token?: TokenDriver<C>;
  readonly describer?: ClusterDescriber<C>;
  /** Lists the clusters of an `accounts` entry: present when the provider module declares `discovery`. */
  readonly lister?: ClusterLister<never>;
  /** Releases SDK clients and connections; the drivers are not used afterwards. */
  close?(): void;
}

/** What every provider's drivers are built with besides their credentials. */
export interface ProviderOptions {
  /**
   * How long one request to the cloud may take before it is aborted. Drivers make a
   * single attempt per call; the core retries within the caller's deadline.
   */
  readonly upstreamTimeoutMs: number;
  /**
   * The clock of everything a driver signs, expires or compares: token signing
   * times and lifetimes, request signatures, when cached credentials are renewed.
   * Tests pin it and move it.
   */
  readonly clock: Clock;
  /**
   * Where drivers report what an operator should know but no caller sees, such as
   * serving stale credentials. An `error` field may hold the Error itself: the
   * logger summarises it and scrubs it of every provider's secret shapes.
   */
  readonly warn?: (fields: Record<string, unknown>, message: string) => void;
}
