import { type AuditFacts, unwrapFailure } from "../core/call-context.js";
import { isServiceError, ServiceError } from "../errors/service-error.js";
import { type ErrorStatus, errorStatuses } from "../errors/status-codes.js";

/**
 * A failed call as every concern reports it: what the caller is told, its status
 * names, the facts learned before it failed, and what was really thrown.
 */
export class ClassifiedFailure {
  constructor(
    /** What the caller gets: the service error thrown, or INTERNAL with a fixed message for anything else. */
    readonly error: ServiceError,
    /** The names of `error.code` (`status-codes.ts`). */
    readonly status: ErrorStatus,
    /** What the handler learned before it failed, for the audit line. */
    readonly facts: AuditFacts,
    /** What was thrown: for the log line of an unexpected error, never for the caller. */
    readonly thrown: unknown,
  ) {}

  /** True when what was thrown is not a service error: a bug, logged as an error. */
  get unexpected(): boolean {
    return this.error.reason === "INTERNAL";
  }
}

/** What the caller of a bug is told: nothing of its text, which could hold a secret. */
function internalError(): ServiceError {
  return new ServiceError({ reason: "INTERNAL", message: "internal error" });
}

/**
 * The one error classifier of the pipeline. It turns whatever a link or handler
 * threw (a `ServiceError`, a `CallFailure` carrying one with facts, or anything
 * else, which is a bug) into a {@link ClassifiedFailure}; a classified failure is
 * returned as it is, so each link may classify what passes through it. The access
 * log, the audit, the metrics and both transports read codes, reasons and facts
 * from its result, never from the error.
 */
export function classifyFailure(err: unknown): ClassifiedFailure {
  if (err instanceof ClassifiedFailure) return err;
  const { error, facts } = unwrapFailure(err);
  const known = isServiceError(error) && error.code !== "Internal" ? error : internalError();
  return new ClassifiedFailure(known, errorStatuses[known.code], facts, error);
}
