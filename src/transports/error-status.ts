import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { isServiceError, type ErrorCode } from "../errors/service-error.js";

/** `google.rpc.ErrorInfo.domain` of every error this service returns. */
export const errorDomain = "clustertoken.v1";

/** The portable codes as gRPC/Connect codes. This table is the only place they are mapped. */
const statusCodes: Record<ErrorCode, Code> = {
  InvalidArgument: Code.InvalidArgument,
  NotFound: Code.NotFound,
  FailedPrecondition: Code.FailedPrecondition,
  PermissionDenied: Code.PermissionDenied,
  Unauthenticated: Code.Unauthenticated,
  ResourceExhausted: Code.ResourceExhausted,
  Unavailable: Code.Unavailable,
  DeadlineExceeded: Code.DeadlineExceeded,
  Canceled: Code.Canceled,
  Unimplemented: Code.Unimplemented,
  Internal: Code.Internal,
};

/**
 * Turns anything a handler threw into the error both transports send: the status
 * code of its portable code and exactly one `google.rpc.ErrorInfo`. An error that is
 * not a `ServiceError` is a bug: it becomes `Internal` with a fixed message, so that
 * nothing of its text (which could hold a secret) reaches the caller.
 */
export function toConnectError(err: unknown): ConnectError {
  if (isServiceError(err)) {
    return new ConnectError(err.message, statusCodes[err.code], undefined, [
      { desc: ErrorInfoSchema, value: { reason: err.reason, domain: errorDomain, metadata: { ...err.metadata } } },
    ]);
  }
  return new ConnectError("internal error", Code.Internal, undefined, [
    { desc: ErrorInfoSchema, value: { reason: "INTERNAL", domain: errorDomain } },
  ]);
}
