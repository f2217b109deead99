import { raceSignal } from "../common/deadline.js";
import type { ErrorReason } from "./error-reasons.js";
import { isServiceError, ServiceError } from "./service-error.js";

/** Which upstream call failed, for error messages and ErrorInfo metadata. Never holds a secret. */
export interface UpstreamCall {
  /** The provider, such as "aws". */
  provider: string;
  /** The cloud operation, such as "sts:AssumeRole". */
  operation: string;
  /** Extra ErrorInfo metadata, such as `{ cluster_id }`. */
  metadata?: Record<string, string>;
}

function upstream(call: UpstreamCall, reason: ErrorReason, what: string, cause: unknown): ServiceError {
  return new ServiceError({
    reason,
    message: `${call.provider} ${call.operation} ${what}`,
    metadata: { provider: call.provider, operation: call.operation, ...call.metadata },
    cause,
  });
}

/**
 * Maps an upstream HTTP status to a portable error, the same way for every cloud:
 *
 * - 401, 403: `FailedPrecondition` (UPSTREAM_PERMISSION_DENIED). The cloud rejected the
 *   service's own credentials; the caller cannot fix that, an operator can.
 * - 404: `NotFound` (UPSTREAM_NOT_FOUND).
 * - 429: `Unavailable` (UPSTREAM_THROTTLED), worth retrying later.
 * - 5xx: `Unavailable` (UPSTREAM_UNAVAILABLE).
 * - any other 4xx: `FailedPrecondition` (UPSTREAM_REJECTED): the request the config
 *   led to is one the cloud refuses.
 */
export function upstreamHttpError(call: UpstreamCall, status: number, cause?: unknown): ServiceError {
  if (status === 401 || status === 403)
    return upstream(call, "UPSTREAM_PERMISSION_DENIED", `rejected the service's credentials (HTTP ${status})`, cause);
  if (status === 404) return upstream(call, "UPSTREAM_NOT_FOUND", `found no such resource (HTTP 404)`, cause);
  if (status === 429) return upstream(call, "UPSTREAM_THROTTLED", "is throttling requests (HTTP 429); retry later", cause);
  if (status >= 500) return upstream(call, "UPSTREAM_UNAVAILABLE", `failed (HTTP ${status}); retry later`, cause);
  return upstream(call, "UPSTREAM_REJECTED", `rejected the request (HTTP ${status})`, cause);
}

/** The cloud throttled the call (some clouds say so with a 400 and an error code). */
export function upstreamThrottled(call: UpstreamCall, cause?: unknown): ServiceError {
  return upstream(call, "UPSTREAM_THROTTLED", "is throttling requests; retry later", cause);
}

const networkErrorCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
]);

/** True for a failure to reach the cloud at all: a Node network error code, or a client-side timeout or abort. */
export function isNetworkFailure(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown } | null | undefined;
  return networkErrorCodes.has(String(e?.code ?? "")) || e?.name === "TimeoutError" || e?.name === "AbortError";
}

/** The cloud could not be reached: DNS, connection or TLS failure, or no answer in time. */
export function upstreamUnreachable(call: UpstreamCall, cause?: unknown): ServiceError {
  return upstream(call, "UPSTREAM_UNREACHABLE", "could not be reached; retry later", cause);
}

/** The cloud answered with a body that is not what its API promises. */
export function upstreamBadResponse(call: UpstreamCall, cause?: unknown): ServiceError {
  return upstream(call, "UPSTREAM_BAD_RESPONSE", "answered with a malformed response", cause);
}

/**
 * The error for a call abandoned because the caller went away: `DeadlineExceeded`
 * when its deadline passed, `Canceled` otherwise.
 */
export function abandonedError(call: UpstreamCall, signal: AbortSignal): ServiceError {
  const reason: unknown = signal.reason;
  const timedOut = reason instanceof Error && reason.name === "TimeoutError";
  return timedOut
    ? upstream(call, "DEADLINE_EXCEEDED", "did not complete before the caller's deadline", reason)
    : upstream(call, "CANCELED", "was abandoned because the caller canceled", reason);
}

/**
 * Settles with `work`, or rejects with {@link abandonedError} as soon as `signal`
 * aborts, so that no caller waits past its deadline on a library call that cannot
 * itself be aborted.
 */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal, call: UpstreamCall): Promise<T> {
  return raceSignal(work, signal, () => abandonedError(call, signal));
}

/**
 * The error of a shared lookup (a cache fill, one attempt shared by several callers)
 * as this caller sees it: its own deadline or cancellation when its signal aborted,
 * UPSTREAM_UNREACHABLE when the shared attempt outlived its time limit without the
 * work noticing, else the work's own error.
 */
export function sharedLookupError(err: unknown, signal: AbortSignal, call: UpstreamCall): unknown {
  if (signal.aborted) return abandonedError(call, signal);
  if (!isServiceError(err) && isNetworkFailure(err)) return upstreamUnreachable(call, err);
  return err;
}

/**
 * True when a cloud call failed because the cloud is down, slow or throttling
 * (UNAVAILABLE, or a network failure or timeout), rather than because what was
 * asked for is gone or refused: what a last known value may stand in for.
 */
export function isUpstreamOutage(err: unknown): boolean {
  return isServiceError(err) ? err.code === "Unavailable" : isNetworkFailure(err);
}
