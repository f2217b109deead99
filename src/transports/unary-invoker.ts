import type { DescMessage, DescMethodUnary, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { CallContext } from "../core/call-context.js";
import type { ServiceHandlers } from "../core/service-handlers.js";
import { isServiceError, ServiceError } from "../errors/service-error.js";
import { errorSummary } from "../logging/logger.js";
import { toConnectError } from "./connect-error.js";

/**
 * Calls one RPC of the core for any transport: runs the handler, logs one line per
 * call, and turns failures into the `ConnectError` both transports send. Transports
 * only translate their wire objects to and from this.
 */
export type UnaryInvoker = <I extends DescMessage, O extends DescMessage>(
  method: DescMethodUnary<I, O>,
  request: MessageShape<I> | UndecodableRequest,
  context: CallContext,
) => Promise<MessageInitShape<O>>;

/**
 * Stands in for a request body that could not be decoded, so that a transport whose
 * library decodes before calling us (grpc-js) still answers INVALID_ARGUMENT through
 * the same path as every other error.
 */
export class UndecodableRequest {
  constructor(readonly cause: unknown) {}
}

/** Creates the {@link UnaryInvoker} of `handlers`, the implementation of `service`. */
export function createUnaryInvoker<S extends DescService & { method: Record<string, DescMethodUnary> }>(
  _service: S,
  handlers: ServiceHandlers<S>,
  logger: Logger,
): UnaryInvoker {
  const table = handlers as unknown as Record<string, (request: unknown, context: CallContext) => Promise<never>>;
  return async (method, request, context) => {
    const started = performance.now();
    const fields = { rpc: method.name, transport: context.transport, requestId: context.requestId };
    try {
      const handler = table[method.localName];
      if (!handler) throw new Error(`no handler for ${method.name}`);
      if (request instanceof UndecodableRequest) {
        throw new ServiceError({
          code: "InvalidArgument",
          reason: "MALFORMED_REQUEST",
          message: `the request is not a valid ${method.input.typeName} message`,
          cause: request.cause,
        });
      }
      const response = await handler(request, context);
      logger.info({ ...fields, code: "OK", ms: elapsed(started) }, "rpc");
      return response;
    } catch (err) {
      const connectError: ConnectError = toConnectError(err);
      const level = isServiceError(err) && err.code !== "Internal" ? "info" : "error";
      logger[level]({ ...fields, code: connectError.code, reason: isServiceError(err) ? err.reason : "INTERNAL", ms: elapsed(started), error: errorSummary(err) }, "rpc");
      throw connectError;
    }
  };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
