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
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 400) return upstreamHttpError(call, status, err);
  if (isNetworkFailure(err) || isTransientError(err as never) || isTlsVerificationFailure(err)) return upstreamTransportError(call, err);
  return upstreamBadResponse(call, err);
}
