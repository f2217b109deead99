import { ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { classifyFailure } from "../pipeline/classify-failure.js";

/** `google.rpc.ErrorInfo.domain` of every error this service returns. */
export const errorDomain = "clustertoken.v1";

/**
 * The wire form of a failure, sent by both transports: the status code the
 * classifier gives it (`src/errors/status-codes.ts`) and exactly one
 * `google.rpc.ErrorInfo`. Anything that is not a service error is a bug: it becomes
 * INTERNAL with a fixed message, so that nothing of its text (which could hold a
 * secret) reaches the caller.
 */
export function toConnectError(failure: unknown): ConnectError {
  const { error, status } = classifyFailure(failure);
  return new ConnectError(error.message, status.connect, undefined, [
    { desc: ErrorInfoSchema, value: { reason: error.reason, domain: errorDomain, metadata: { ...error.metadata } } },
  ]);
}
