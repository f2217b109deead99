import type { ProviderName } from "../config/config-schema.js";

/**
 * A registered cluster as drivers see it: public attributes plus the name of the
 * credential entry the driver signs with. It holds no secret.
 */
export interface RegisteredCluster {
  /** The id callers name, unique in the registry. */
  readonly id: string;
  readonly provider: ProviderName;
  readonly region: string;
  /** The cluster's name in its cloud (EKS: the name signed as x-k8s-aws-id). */
  readonly name: string;
  readonly displayName: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The name of the `credentials` entry to use. */
  readonly credentials: string;
  /** The API server URL, when configured. */
  readonly endpoint?: string;
  /** Base64 PEM of the cluster CA, when configured. */
  readonly certificateAuthorityData?: string;
}

/** A bearer token and the instant it stops being accepted. */
export interface MintedToken {
  readonly token: string;
  /** Never later than the cloud accepts the token, and never later than the signing credential's own expiry. */
  readonly expiresAt: Date;
}

/**
 * The "mint a token" capability: one implementation per cloud, under
 * `src/drivers/<cloud>/`. A driver reports failures as a `ServiceError` with a
 * portable code and never puts a secret or token into an error.
 */
export interface TokenDriver {
  /**
   * Mints a bearer token for `cluster` with the cloud's own scheme.
   *
   * @param signal aborted when the caller cancels or its deadline passes; a driver
   *   that calls its cloud must stop waiting then.
   */
  mintToken(cluster: RegisteredCluster, signal: AbortSignal): Promise<MintedToken>;
}

/** The drivers of the providers this process serves, wired in the composition root. */
export type TokenDrivers = Partial<Record<ProviderName, TokenDriver>>;
