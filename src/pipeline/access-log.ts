import type { Logger } from "pino";
import { okStatus } from "../errors/status-codes.js";
import { errorSummary, writeTrustedLine } from "../logging/logger.js";
import { classifyFailure } from "./classify-failure.js";
import type { Invocation } from "./invocation.js";
import { defineLink, type Link } from "./link.js";

/**
 * One log line per call: RPC, transport, request id, trace and span ids (with
 * tracing on), principal, the cloud identity a minting call used (or named, when
 * refused), gRPC code name, reason and duration. A client's mistake is logged at info; only INTERNAL (a bug)
 * is an error, with what was thrown, scrubbed.
 */
export function accessLog(logger: Logger): Link {
  return defineLink({
    name: "accessLog",
    wrap: (next) => async (invocation) => {
      const started = performance.now();
      try {
        const outcome = await next(invocation);
        writeTrustedLine(logger, "info", new AccessLine(invocation, started, okStatus.grpc, outcome.facts.identity), "rpc");
        return outcome;
      } catch (err) {
        const failure = classifyFailure(err);
        const line = new AccessLine(invocation, started, failure.status.grpc, failure.facts.identity);
        line.reason = failure.error.reason;
        line.error = errorSummary(failure.thrown, logger);
        writeTrustedLine(logger, failure.unexpected ? "error" : "info", line, "rpc");
        throw failure;
      }
    },
  });
}

/** The fields of an access-log line, in their order; one shape for every call. */
class AccessLine {
  readonly rpc: string;
  readonly transport: string;
  readonly requestId: string;
  readonly traceId: string | undefined;
  readonly spanId: string | undefined;
  readonly principal: string | undefined;
  /**
   * The identity a minting call used: a `credentials` entry's name, chosen by the
   * policy. On a refusal, the one the request named: a request value, checked only to
   * be a well-formed name (a string in one log field, never a metric label).
   */
  readonly identity: string | undefined;
  readonly ms: number;
  readonly code: string;
  reason: string | undefined = undefined;
  error: Record<string, unknown> | undefined = undefined;

  constructor(invocation: Invocation, started: number, code: string, identity: string | undefined) {
    this.rpc = invocation.method.name;
    this.transport = invocation.call.transport;
    this.requestId = invocation.call.requestId;
    this.traceId = invocation.trace?.traceId;
    this.spanId = invocation.trace?.spanId;
    this.principal = invocation.principal?.name;
    this.identity = identity;
    this.ms = Math.round((performance.now() - started) * 100) / 100;
    this.code = code;
  }
}
