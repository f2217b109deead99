import { isThrottlingError, isTransientError } from "@smithy/core/retry";
import { isServiceError, ServiceError } from "../../errors/service-error.js";
import { awsProviderName } from "./aws-config.js";
import {
  abandonedError,
  isNetworkFailure,
  upstreamBadResponse,
  upstreamHttpError,
  upstreamThrottled,
  upstreamTransportError,
  type UpstreamCall,
} from "../../errors/upstream-error.js";
import { isTlsVerificationFailure } from "../../common/tls-verification.js";

/**
 * AWS's error codes for a request whose credentials or signature it refuses. Its
 * JSON APIs send most of them with HTTP 400 rather than 403, so the code, not the
 * status, says that an operator must fix the credentials or their permissions.
 */
const refusedCredentialCodes = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "ExpiredToken",
  "ExpiredTokenException",
  "IncompleteSignature",
  "InvalidClientTokenId",
  "InvalidSignatureException",
  "MissingAuthenticationToken",
  "SignatureDoesNotMatch",
  "UnrecognizedClientException",
]);

/**
 * Maps an AWS SDK or credential-chain failure to a portable error, using smithy's
 * own classification of throttling and transient errors. `signal` is the caller's:
 * once it has aborted, the failure is the caller's deadline or cancellation.
 */
export function awsServiceError(err: unknown, call: UpstreamCall, signal?: AbortSignal): ServiceError {
  if (isServiceError(err)) return err;
  if (signal?.aborted) return abandonedError(call, signal);
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.name === "CredentialsProviderError") {
    return new ServiceError({
      reason: "CREDENTIALS_UNAVAILABLE",
      message: `aws ${call.operation} found no usable credentials`,
      metadata: { provider: awsProviderName, ...call.metadata },
      cause: err,
    });
  }
  if (isThrottlingError(err as never)) return upstreamThrottled(call, err);
  if (refusedCredentialCodes.has(String(e?.name))) return upstreamHttpError(call, 403, err);
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 400) return upstreamHttpError(call, status, err);
  if (isNetworkFailure(err) || isTransientError(err as never) || isTlsVerificationFailure(err)) return upstreamTransportError(call, err);
  return upstreamBadResponse(call, err);
}

/**
 * The error of an AWS JSON-protocol answer that is not a 2xx, read from its
 * `__type` (`"com.amazon.coral.service#ThrottlingException"` or a bare code), with
 * the same mapping as the SDK's errors; undefined when the body names no type.
 */
export function awsJsonError(call: UpstreamCall, status: number, json: unknown): ServiceError | undefined {
  const type = (json as { __type?: unknown } | undefined)?.__type;
  if (typeof type !== "string" || type === "") return undefined;
  const name = type.slice(type.lastIndexOf("#") + 1).split(":")[0];
  return awsServiceError({ name, $metadata: { httpStatusCode: status } }, call);
}
