import { Code } from "@connectrpc/connect";
import type { ErrorCode } from "./service-error.js";

/** The names of one status, in each vocabulary that reports it. */
export interface StatusNames {
  /** gRPC's canonical name (`PERMISSION_DENIED`, `CANCELLED`), written in log and audit lines. */
  readonly grpc: string;
  /** grpc-go's name (`PermissionDenied`, `Canceled`): go-grpc-prometheus's `grpc_code` label, which dashboards match. */
  readonly go: string;
}

/** A failure's status: its names, and the code both transports send. */
export interface ErrorStatus extends StatusNames {
  /** Connect's code; its numbers are gRPC's status codes, so the gRPC listener sends the same. */
  readonly connect: Code;
}

/** A call that succeeded. */
export const okStatus: StatusNames = { grpc: "OK", go: "OK" };

/**
 * The portable codes as statuses: the one table where a status code is named or
 * mapped. Everything that reports an outcome (the access log, the audit log, the
 * RPC metrics, both transports) takes its names from here, through the pipeline's
 * failure classifier.
 */
export const errorStatuses: Readonly<Record<ErrorCode, ErrorStatus>> = {
  Canceled: { grpc: "CANCELLED", go: "Canceled", connect: Code.Canceled },
  InvalidArgument: { grpc: "INVALID_ARGUMENT", go: "InvalidArgument", connect: Code.InvalidArgument },
  DeadlineExceeded: { grpc: "DEADLINE_EXCEEDED", go: "DeadlineExceeded", connect: Code.DeadlineExceeded },
  NotFound: { grpc: "NOT_FOUND", go: "NotFound", connect: Code.NotFound },
  PermissionDenied: { grpc: "PERMISSION_DENIED", go: "PermissionDenied", connect: Code.PermissionDenied },
  ResourceExhausted: { grpc: "RESOURCE_EXHAUSTED", go: "ResourceExhausted", connect: Code.ResourceExhausted },
  FailedPrecondition: { grpc: "FAILED_PRECONDITION", go: "FailedPrecondition", connect: Code.FailedPrecondition },
  Unimplemented: { grpc: "UNIMPLEMENTED", go: "Unimplemented", connect: Code.Unimplemented },
  Internal: { grpc: "INTERNAL", go: "Internal", connect: Code.Internal },
  Unavailable: { grpc: "UNAVAILABLE", go: "Unavailable", connect: Code.Unavailable },
  Unauthenticated: { grpc: "UNAUTHENTICATED", go: "Unauthenticated", connect: Code.Unauthenticated },
};
