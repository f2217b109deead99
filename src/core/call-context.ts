import type { PresentedCredentials } from "../auth/authenticator.js";
import type { Principal } from "../auth/principal.js";

/** The transports the service is served over. */
export type TransportName = "grpc" | "connect";

/**
 * A read-only view of a request's headers (gRPC metadata), filled by both
 * transports alike, so that a concern that reads request metadata (authorization,
 * trace context) is one link that reads it here, whatever the transport.
 */
export interface RequestHeaders {
  /**
   * The value of the header `name` (lower case): several values joined with ", ",
   * as HTTP joins them; a binary (`-bin`) gRPC value in base64; undefined when absent.
   */
  get(name: string): string | undefined;
}

/** What a transport knows of a call before anything is decided about it. */
export interface TransportCall {
  readonly transport: TransportName;
  /** The caller's `x-request-id`, or one generated for this call; echoed in the response and logs. */
  readonly requestId: string;
  /**
   * Aborted when the caller cancels or its deadline passes. The abort reason is a
   * DOMException named "TimeoutError" for a deadline and "AbortError" otherwise.
   * Transports build it on first use, so a call that never waits never pays for it;
   * anything that waits must take it.
   */
  readonly signal: AbortSignal;
  /** The caller's deadline in ms since the epoch; undefined when it set none. */
  readonly deadline: number | undefined;
  /** The request's headers. */
  readonly headers: RequestHeaders;
  /** The client certificate the TLS layer verified against the configured client CA, if any. */
  readonly peerCertificate: PresentedCredentials["peerCertificate"];
}

/** What a handler learns that belongs in its call's audit line; who called is the invocation's. */
export interface AuditFacts {
  clusterId?: string;
  provider?: string;
  /**
   * The cloud identity (a `credentials` entry's name) the call mints with once chosen;
   * before that, on a denial, the one the request named: a request value, checked only
   * to be a well-formed name.
   */
  identity?: string;
  /**
   * The cloud identity an exec kubeconfig names for kubectl's GenerateToken calls,
   * chosen from those grants (or, on a denial, as `identity`, the one named): the call
   * itself mints nothing, so it is never counted as minted with it.
   */
  execIdentity?: string;
  tokenExpiry?: Date;
  tokenFingerprint?: string;
  kubeconfigMode?: string;
}

/**
 * What the core knows of an authenticated call, whatever transport carried it. The
 * core and drivers never see a transport object.
 */
export interface CallContext extends Pick<TransportCall, "transport" | "requestId" | "signal"> {
  /**
   * When the call must be answered, in ms since the epoch: the caller's deadline or
   * the service's `limits.maxCallSeconds`, whichever is sooner. `signal` aborts then.
   */
  readonly deadline: number;
  /** Who is calling; authenticated before any handler runs. */
  readonly principal: Principal;
}

/** What a call returns: the response, and the facts worth auditing. */
export interface Outcome<R> {
  readonly response: R;
  readonly facts: AuditFacts;
}

/**
 * A call's failure with the facts learned before it, so that the audit line of a
 * denied or failed call still says which cluster it was about. `cause` is the error
 * the caller gets.
 */
export class CallFailure extends Error {
  override readonly name = "CallFailure";
  constructor(
    override readonly cause: unknown,
    readonly facts: AuditFacts,
  ) {
    super("the call failed", { cause });
  }
}

/** The error a failure stands for, and the facts it carries (none for a plain error). */
export function unwrapFailure(err: unknown): { error: unknown; facts: AuditFacts } {
  return err instanceof CallFailure ? { error: err.cause, facts: err.facts } : { error: err, facts: {} };
}

/**
 * Runs a handler's work, returning its response with the handler's own facts, or
 * throwing a {@link CallFailure} with the facts learned until it failed. `facts`
 * belongs to this one call of the handler; nothing else writes it.
 */
export async function withFacts<R>(facts: AuditFacts, work: () => Promise<R>): Promise<Outcome<R>> {
  try {
    return { response: await work(), facts };
  } catch (err) {
    throw new CallFailure(err, facts);
  }
}
