import type { Logger } from "pino";
import { unwrapFailure } from "../core/call-context.js";
import { isServiceError } from "../errors/service-error.js";
import { errorSummary, writeTrustedLine } from "../logging/logger.js";
import { type Link, outcomeCode } from "./invocation.js";

/**
 * One log line per call: RPC, transport, request id, principal, gRPC code name,
 * reason and duration. A client's mistake is logged at info; only INTERNAL (a bug)
 * is an error.
 */
export function accessLog(logger: Logger): Link {
  return (next) => async (invocation) => {
    const started = performance.now();
    const fields = (principal: string | undefined) => ({
      rpc: invocation.method.name,
      transport: invocation.call.transport,
      requestId: invocation.call.requestId,
      principal,
      ms: Math.round((performance.now() - started) * 100) / 100,
    });
    try {
      const outcome = await next(invocation);
      writeTrustedLine(logger, "info", { ...fields(outcome.facts.principal), code: outcomeCode() }, "rpc");
      return outcome;
    } catch (err) {
      const { error, facts } = unwrapFailure(err);
      const known = isServiceError(error) && error.code !== "Internal";
      writeTrustedLine(
        logger,
        known ? "info" : "error",
        {
          ...fields(facts.principal),
          code: outcomeCode(error),
          reason: isServiceError(error) ? error.reason : "INTERNAL",
          error: errorSummary(error),
        },
        "rpc",
      );
      throw err;
    }
  };
}
