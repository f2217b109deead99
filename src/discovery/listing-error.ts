import type { AccountConfig } from "../config/config-schema.js";
import { isTlsVerificationFailure } from "../common/tls-verification.js";
import { isServiceError, ServiceError } from "../errors/service-error.js";
import { isNetworkFailure, upstreamTransportError } from "../errors/upstream-error.js";

/**
 * A failed listing as a portable error, for its metric and log line: what the lister
 * rejected with (a ServiceError, as the lister contract requires); a listing that
 * ran past its deadline, or a raw network or certificate failure, as the cloud
 * being unreachable or untrusted; anything else as INTERNAL, a bug in a lister.
 */
export function listingError(err: unknown, account: AccountConfig, scope: string): ServiceError {
  if (isServiceError(err)) return err;
  if (isNetworkFailure(err) || isTlsVerificationFailure(err)) {
    return upstreamTransportError(
      { provider: account.provider, operation: "cluster listing", metadata: { account: account.id, scope } },
      err,
    );
  }
  return new ServiceError({ reason: "INTERNAL", message: "internal error", cause: err });
}
