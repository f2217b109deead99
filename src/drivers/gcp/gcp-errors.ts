import { isServiceError, type ServiceError } from "../../errors/service-error.js";
import {
  abandonedError,
  isNetworkFailure,
  upstreamBadResponse,
  upstreamHttpError,
  upstreamTransportError,
  type UpstreamCall,
} from "../../errors/upstream-error.js";
import { isTlsVerificationFailure } from "../../common/tls-verification.js";

/**
 * Maps a google-auth-library or gaxios failure to a portable error. `signal` is the
 * caller's: once it has aborted, the failure is its deadline or cancellation.
 */
export function gcpServiceError(err: unknown, call: UpstreamCall, signal?: AbortSignal): ServiceError {
  if (isServiceError(err)) return err;
  if (signal?.aborted) return abandonedError(call, signal);
  const e = err as { status?: unknown; response?: { status?: unknown } };
  const status = [e?.status, e?.response?.status].find((s): s is number => typeof s === "number");
  if (status !== undefined && status >= 400) return upstreamHttpError(call, status, err);
  if (isNetworkFailure(err) || isTlsVerificationFailure(err)) return upstreamTransportError(call, err);
  return upstreamBadResponse(call, err);
}
