import type { PresentedCredentials } from "../auth/authenticator.js";
import type { Principal } from "../auth/principal.js";

/** The transports the service is served over. */
export type TransportName = "grpc" | "connect";

/** What a transport knows of a call before anything is decided about it. */
export interface TransportCall {
  readonly transport: TransportName;
  /** The caller's `x-request-id`, or one generated for this call; echoed in the response and logs. */
  readonly requestId: string;
  /**
   * Aborted when the caller cancels or its deadline passes. The abort reason is a
   * DOMException named "TimeoutError" for a deadline and "AbortError" otherwise.
   */
  readonly signal: AbortSignal;
  /** The caller's deadline in ms since the epoch, when it set one. */
  readonly deadline?: number;
  /** What the caller presented to authenticate. */
  readonly credentials: PresentedCredentials;
}

/** What handlers learn that belongs in the audit line. */
export interface AuditFacts {
  clusterId?: string;
  provider?: string;
  tokenExpiry?: Date;
  tokenFingerprint?: string;
  kubeconfigMode?: string;
}

/**
 * What the core knows of an authenticated call, whatever transport carried it. The
 * core and drivers never see a transport object.
 */
export interface CallContext extends Omit<TransportCall, "credentials" | "deadline"> {
  /**
   * When the call must be answered, in ms since the epoch: the caller's deadline or
   * the service's `limits.maxCallSeconds`, whichever is sooner. `signal` aborts then.
   */
  readonly deadline: number;
  /** Who is calling; authenticated before any handler runs. */
  readonly principal: Principal;
  /** Filled in by handlers; the invoker writes it to the audit log. */
  readonly audit: AuditFacts;
}
