import type { ErrorCode } from "./service-error.js";

/** The request itself. */
const requestReasons = {
  INVALID_CLUSTER_ID: "InvalidArgument",
  UNSUPPORTED_API_VERSION: "InvalidArgument",
  UNSUPPORTED_KUBECONFIG_MODE: "InvalidArgument",
  EXEC_OPTIONS_WITHOUT_EXEC: "InvalidArgument",
  INVALID_EXEC_OPTION: "InvalidArgument",
  MALFORMED_REQUEST: "InvalidArgument",
  INVALID_PAGE_SIZE: "InvalidArgument",
  INVALID_PAGE_TOKEN: "InvalidArgument",
  INVALID_FILTER: "InvalidArgument",
  INVALID_IDENTITY: "InvalidArgument",
  UNSUPPORTED_MEDIA_TYPE: "InvalidArgument",
  METHOD_NOT_ALLOWED: "Unimplemented",
  UNKNOWN_METHOD: "Unimplemented",
  GRPC_ON_HTTP_PORT: "Unimplemented",
} as const satisfies Record<string, ErrorCode>;

/** Who is calling, and what it may do. */
const callerReasons = {
  CREDENTIALS_MISSING: "Unauthenticated",
  INVALID_API_KEY: "Unauthenticated",
  MALFORMED_AUTHORIZATION: "Unauthenticated",
  CERTIFICATE_WITHOUT_IDENTITY: "Unauthenticated",
  CERTIFICATE_IDENTITY_INVALID: "Unauthenticated",
  NOT_GRANTED: "PermissionDenied",
  IDENTITY_REQUIRED: "FailedPrecondition",
  RATE_LIMITED: "ResourceExhausted",
  TOO_MANY_CALLS: "ResourceExhausted",
} as const satisfies Record<string, ErrorCode>;

/** The registry and the service's own configuration: its secrets, its credentials, its audit sink. */
const serviceReasons = {
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
} as const satisfies Record<string, ErrorCode>;

/** The cloud: what its API answered, or that it could not be reached. */
const cloudReasons = {
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
} as const satisfies Record<string, ErrorCode>;

/** The call's own end, wherever it was. */
const endReasons = {
  DEADLINE_EXCEEDED: "DeadlineExceeded",
  CANCELED: "Canceled",
  INTERNAL: "Internal",
} as const satisfies Record<string, ErrorCode>;

/**
 * Every `google.rpc.ErrorInfo.reason` the service sends, with the portable code it
 * always comes with. Clients switch on reasons, so this table is the contract: a
 * reason is never renamed, and a test checks the error table of docs/api.md against it.
 * A new reason goes into the group it belongs to, which says whether it can be a
 * cloud's answer (see {@link failedBeforeAnyCloud}).
 */
export const errorReasons = { ...requestReasons, ...callerReasons, ...serviceReasons, ...cloudReasons, ...endReasons } as const;

/** A reason of {@link errorReasons}. */
export type ErrorReason = keyof typeof errorReasons;

const beforeAnyCloud: ReadonlySet<string> = new Set([
  ...Object.keys(requestReasons),
  ...Object.keys(callerReasons),
  ...Object.keys(serviceReasons),
]);

/**
 * True when a failure with `reason` happened before any request left for a cloud:
 * the request, the caller, or the service's own configuration (a secret reference
 * that cannot be resolved, a malformed key, a provider that cannot mint). Such a
 * failure is not the cloud's outcome, and is not counted as one: an alert on clouds
 * failing must not fire on a config error. The call's own end (a deadline, a
 * cancellation) may come while a cloud is being waited for, and counts.
 */
export function failedBeforeAnyCloud(reason: ErrorReason): boolean {
  return beforeAnyCloud.has(reason);
}
