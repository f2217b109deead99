import type { ProviderName } from "../config/config-schema.js";

/** What every registered cluster has, whatever its cloud. It holds no secret. */
interface ClusterBase {
  /** The id callers name, unique in the registry. */
  readonly id: string;
  /** The cloud region (EKS, NKS) or GKE location (region or zone). */
  readonly region: string;
  /** The cluster's name in its cloud; empty for an NKS cluster registered by UUID only. */
  readonly name: string;
  readonly displayName: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The name of the `credentials` entry to use. */
  readonly credentials: string;
  /** The API server URL, when configured; otherwise it is discovered. */
  readonly endpoint?: string;
  /** Base64 PEM of the cluster CA, when configured; otherwise it is discovered. */
  readonly certificateAuthorityData?: string;
  /** Overrides the base URL of the cloud's cluster API used for discovery. */
  readonly apiEndpoint?: string;
}

/**
 * A registered cluster as drivers see it, discriminated by provider so that each
 * driver gets the attributes its cloud needs.
 */
export type RegisteredCluster =
  | (ClusterBase & { readonly provider: "aws" })
  | (ClusterBase & { readonly provider: "gcp"; readonly project: string })
  | (ClusterBase & { readonly provider: "ncp"; readonly uuid: string });

/** The registered-cluster shape of one provider. */
export type ClusterOf<P extends ProviderName> = Extract<RegisteredCluster, { provider: P }>;

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
export interface TokenDriver<C extends RegisteredCluster = RegisteredCluster> {
  /**
   * Mints a bearer token for `cluster` with the cloud's own scheme.
   *
   * @param signal aborted when the caller cancels or its deadline passes; a driver
   *   that calls its cloud must stop waiting then.
   */
  mintToken(cluster: C, signal: AbortSignal): Promise<MintedToken>;
}

/** The "describe a cluster" capability: where its API server is and which CA signs it. */
export interface ClusterDescriber<C extends RegisteredCluster = RegisteredCluster> {
  /** Asks the cloud's cluster API; same error and `signal` rules as {@link TokenDriver.mintToken}. */
  describeCluster(cluster: C, signal: AbortSignal): Promise<ClusterAccess>;
}

/** One cloud's drivers. A cloud may lack a capability; the service then answers FAILED_PRECONDITION. */
export interface ProviderDrivers<C extends RegisteredCluster = RegisteredCluster> {
  readonly token?: TokenDriver<C>;
  readonly describer?: ClusterDescriber<C>;
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
  /** The clock of token signing; tests pin it. */
  readonly now?: () => Date;
}

/** The drivers of every provider this process serves, wired in the composition root. */
export type DriverSet = { readonly [P in ProviderName]?: ProviderDrivers<ClusterOf<P>> };

/** The drivers for `cluster`'s provider, typed for the generic cluster. */
export function driversFor(drivers: DriverSet, cluster: RegisteredCluster): ProviderDrivers | undefined {
  return drivers[cluster.provider] as ProviderDrivers | undefined;
}
