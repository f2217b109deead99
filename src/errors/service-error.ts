import { errorReasons, type ErrorReason } from "./error-reasons.js";

/**
 * The portable error codes every layer speaks, modelled on Go CDK's gcerrors: a
 * gRPC-like subset that drivers map their clouds' failures into. The service maps
 * them to gRPC and Connect status codes in exactly one place
 * (`src/errors/status-codes.ts`).
 */
export type ErrorCode =
  | "InvalidArgument"
  | "NotFound"
  | "FailedPrecondition"
  | "PermissionDenied"
  | "Unauthenticated"
  | "ResourceExhausted"
  | "Unavailable"
  | "DeadlineExceeded"
  | "Canceled"
  | "Unimplemented"
  | "Internal";

/** Options for {@link ServiceError}. */
export interface ServiceErrorInit {
  /**
   * The proximate cause, sent to callers as `google.rpc.ErrorInfo.reason`. It
   * decides the portable code, and so the gRPC and HTTP status (see
   * `error-reasons.ts`).
   */
  reason: ErrorReason;
  /**
   * A sentence a person can act on. It is sent to callers and logged, so it must
   * never contain a secret, a token or text copied from an upstream response.
   */
  message: string;
  /** Structured context sent as `ErrorInfo.metadata`, e.g. `{ cluster_id }`. Same rule as `message`. */
  metadata?: Record<string, string>;
  /** The underlying error, kept for local debugging. It is never sent to callers. */
  cause?: unknown;
}

/**
 * The one error type of the service. Anything else that escapes a handler is a bug
 * and is reported to callers as `Internal` without its message.
 */
export class ServiceError extends Error {
  override readonly name = "ServiceError";
  readonly code: ErrorCode;
  readonly reason: ErrorReason;
  readonly metadata: Readonly<Record<string, string>>;

  constructor(init: ServiceErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = errorReasons[init.reason];
    this.reason = init.reason;
    this.metadata = init.metadata ?? {};
  }
}

/** Narrows `err` to a {@link ServiceError}, optionally with the given code. */
export function isServiceError(err: unknown, code?: ErrorCode): err is ServiceError {
  return err instanceof ServiceError && (code === undefined || err.code === code);
}
