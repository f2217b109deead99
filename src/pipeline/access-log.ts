import type { Logger } from "pino";
import { isServiceError } from "../errors/service-error.js";
import { errorSummary, writeTrustedLine } from "../logging/logger.js";
import { unwrapFailure } from "../core/call-context.js";
import { type Invocation, type Link, outcomeCode } from "./invocation.js";

/**
 * One log line per call: RPC, transport, request id, principal, gRPC code name,
 * reason and duration. A client's mistake is logged at info; only INTERNAL (a bug)
 * is an error.
 */
export function accessLog(logger: Logger): Link {
  return (next) => async (invocation) => {
    const started = performance.now();
    try {
      const outcome = await next(invocation);
      writeTrustedLine(logger, "info", new AccessLine(invocation, started, "OK"), "rpc");
      return outcome;
    } catch (err) {
      const { error } = unwrapFailure(err);
      const known = isServiceError(error) && error.code !== "Internal";
      const line = new AccessLine(invocation, started, outcomeCode(error));
      line.reason = isServiceError(error) ? error.reason : "INTERNAL";
      line.error = errorSummary(error, logger);
      writeTrustedLine(logger, known ? "info" : "error", line, "rpc");
      throw err;
    }
  };
}

/** The fields of an access-log line, in their order; one shape for every call. */
class AccessLine {
  readonly rpc: string;
  readonly transport: string;
  readonly requestId: string;
  readonly principal: string | undefined;
  readonly ms: number;
  readonly code: string;
  reason: string | undefined = undefined;
  error: Record<string, unknown> | undefined = undefined;

  constructor(invocation: Invocation, started: number, code: string) {
    this.rpc = invocation.method.name;
    this.transport = invocation.call.transport;
    this.requestId = invocation.call.requestId;
    this.principal = invocation.principal?.name;
    this.ms = Math.round((performance.now() - started) * 100) / 100;
    this.code = code;
  }
}
