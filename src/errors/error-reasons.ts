import type { ErrorCode } from "./service-error.js";

/**
 * Every `google.rpc.ErrorInfo.reason` the service sends, with the portable code it
 * always comes with. Clients switch on reasons, so this table is the contract: a
 * reason is never renamed, and a test checks the README's error table against it.
 */
export const errorReasons = {
  // The request itself.
  INVALID_CLUSTER_ID: "InvalidArgument",
  UNSUPPORTED_API_VERSION: "InvalidArgument",
  UNSUPPORTED_KUBECONFIG_MODE: "InvalidArgument",
  EXEC_OPTIONS_WITHOUT_EXEC: "InvalidArgument",
  INVALID_EXEC_OPTION: "InvalidArgument",
  MALFORMED_REQUEST: "InvalidArgument",
  INVALID_PAGE_SIZE: "InvalidArgument",
  INVALID_PAGE_TOKEN: "InvalidArgument",
  INVALID_FILTER: "InvalidArgument",
  UNSUPPORTED_MEDIA_TYPE: "InvalidArgument",
  METHOD_NOT_ALLOWED: "Unimplemented",
  UNKNOWN_METHOD: "Unimplemented",
  // Who is calling, and what it may do.
  CREDENTIALS_MISSING: "Unauthenticated",
  INVALID_API_KEY: "Unauthenticated",
  MALFORMED_AUTHORIZATION: "Unauthenticated",
  CERTIFICATE_WITHOUT_IDENTITY: "Unauthenticated",
  CERTIFICATE_IDENTITY_INVALID: "Unauthenticated",
  NOT_GRANTED: "PermissionDenied",
  RATE_LIMITED: "ResourceExhausted",
  TOO_MANY_CALLS: "ResourceExhausted",
  // The registry and the service's own configuration.
  CLUSTER_NOT_FOUND: "NotFound",
  EXEC_NOT_CONFIGURED: "FailedPrecondition",
  SECRET_UNRESOLVABLE: "FailedPrecondition",
  CREDENTIALS_INVALID: "FailedPrecondition",
  CREDENTIALS_UNAVAILABLE: "FailedPrecondition",
  CREDENTIALS_NOT_CONFIGURED: "FailedPrecondition",
  PROVIDER_CANNOT_MINT: "FailedPrecondition",
  DISCOVERY_NOT_SUPPORTED: "FailedPrecondition",
  AUDIT_FAILED: "Unavailable",
  LOOKUP_THROTTLED: "Unavailable",
  // The cloud.
  CLUSTER_NOT_READY: "FailedPrecondition",
  UPSTREAM_PERMISSION_DENIED: "FailedPrecondition",
  UPSTREAM_REJECTED: "FailedPrecondition",
  UPSTREAM_TLS_UNTRUSTED: "FailedPrecondition",
  UPSTREAM_NOT_FOUND: "NotFound",
  UPSTREAM_UNAVAILABLE: "Unavailable",
  UPSTREAM_THROTTLED: "Unavailable",
  UPSTREAM_UNREACHABLE: "Unavailable",
  UPSTREAM_BAD_RESPONSE: "Unavailable",
  UPSTREAM_PARTIAL_LISTING: "Unavailable",
  // The call's own end.
  DEADLINE_EXCEEDED: "DeadlineExceeded",
  CANCELED: "Canceled",
  INTERNAL: "Internal",
} as const satisfies Record<string, ErrorCode>;

/** A reason of {@link errorReasons}. */
export type ErrorReason = keyof typeof errorReasons;
