import { HttpReadError } from "../common/http-json.js";
import { isTlsVerificationFailure } from "../common/tls-verification.js";
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

/** The cloud could not be reached: DNS, connection or TLS handshake failure, or no answer in time. */
export function upstreamUnreachable(call: UpstreamCall, cause?: unknown): ServiceError {
  return upstream(call, "UPSTREAM_UNREACHABLE", "could not be reached; retry later", cause);
}

/**
 * The cloud's endpoint presented a certificate that failed verification. Not an
 * outage and not worth a retry: the trusted CAs (such as a credential's `caFile`) or the
 * endpoint are wrong, or something in between is not the cloud.
 */
export function upstreamTlsUntrusted(call: UpstreamCall, cause?: unknown): ServiceError {
  return upstream(
    call,
    "UPSTREAM_TLS_UNTRUSTED",
    "presented a TLS certificate that is not trusted; check the endpoint and the CAs the service trusts",
    cause,
  );
}

/**
 * A failure below HTTP, from any client library: UPSTREAM_TLS_UNTRUSTED when the
 * server's certificate failed verification, else UPSTREAM_UNREACHABLE.
 */
export function upstreamTransportError(call: UpstreamCall, cause: unknown): ServiceError {
  return isTlsVerificationFailure(cause) ? upstreamTlsUntrusted(call, cause) : upstreamUnreachable(call, cause);
}

/**
 * The portable error of an exchange of the bounded reader (`common/http-json.ts`)
 * that got no answer: the caller's deadline or cancellation once `signal` aborted,
 * UPSTREAM_BAD_RESPONSE for an answer over the size cap, else the transport's.
 */
export function upstreamReadError(call: UpstreamCall, err: unknown, signal?: AbortSignal): ServiceError {
  if (signal?.aborted) return abandonedError(call, signal);
  if (err instanceof HttpReadError && err.kind === "too-large") return upstreamBadResponse(call, err);
  return upstreamTransportError(call, err);
}

/** The cloud answered with a body that is not what its API promises. */
export function upstreamBadResponse(call: UpstreamCall, cause?: unknown): ServiceError {
  return upstream(call, "UPSTREAM_BAD_RESPONSE", "answered with a malformed response", cause);
}

/**
 * The cloud answered a listing but said that part of it is missing (zones it could
 * not read): an incomplete listing, which must never read as "these are all
 * the clusters". `missing` names what is missing, such as zones; never a secret.
 */
export function upstreamPartialListing(call: UpstreamCall, missing: string): ServiceError {
  return upstream(call, "UPSTREAM_PARTIAL_LISTING", `answered a partial listing, without ${missing}; retry later`, undefined);
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
 * The error of a shared lookup (a cache fill, one attempt shared by several callers)
 * as this caller sees it: its own deadline or cancellation when its signal aborted,
 * UPSTREAM_UNREACHABLE when the shared attempt outlived its time limit without the
 * work noticing (UPSTREAM_TLS_UNTRUSTED for a raw certificate failure), else the
 * work's own error.
 */
export function sharedLookupError(err: unknown, signal: AbortSignal, call: UpstreamCall): unknown {
  if (signal.aborted) return abandonedError(call, signal);
  if (!isServiceError(err) && (isNetworkFailure(err) || isTlsVerificationFailure(err))) return upstreamTransportError(call, err);
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

/**
 * True when the cloud answered about the resource itself: it does not exist (404)
 * or the service may not see it (401, 403). Unlike an outage, that is news about
 * the resource, so a last known value must stop standing in for it.
 */
export function isUpstreamVerdict(err: unknown): boolean {
  return isServiceError(err) && (err.reason === "UPSTREAM_NOT_FOUND" || err.reason === "UPSTREAM_PERMISSION_DENIED");
}
