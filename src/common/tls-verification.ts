/**
 * Node's codes for a peer certificate that failed verification: OpenSSL's
 * `X509_V_ERR_*` names as Node reports them (`X509ErrorCode` in Node's
 * `src/crypto/crypto_common.cc`, documented under "X509 certificate error codes"
 * in `tls.md`), and the hostname check's own code.
 */
const verificationCodes: ReadonlySet<string> = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_CRL",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECRYPT_CRL_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "CERT_SIGNATURE_FAILURE",
  "CRL_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "CRL_NOT_YET_VALID",
  "CRL_HAS_EXPIRED",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
  "ERROR_IN_CRL_LAST_UPDATE_FIELD",
  "ERROR_IN_CRL_NEXT_UPDATE_FIELD",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** How deep {@link isTlsVerificationFailure} follows `cause`: SDKs wrap a socket error once or twice. */
const maxCauseDepth = 4;

/**
 * True when `err`, or an error it wraps as its `cause`, says the server's
 * certificate could not be verified: an untrusted or self-signed chain, an expired
 * certificate, a name that does not match. Unlike a refused connection, retrying
 * cannot fix that, and it is no outage: the endpoint, or something in between, is
 * not who it should be, or the trusted CAs are wrong.
 */
export function isTlsVerificationFailure(err: unknown): boolean {
  let current = err;
  for (let depth = 0; depth <= maxCauseDepth && typeof current === "object" && current !== null; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === "string" && verificationCodes.has(code)) return true;
    current = cause;
  }
  return false;
}
