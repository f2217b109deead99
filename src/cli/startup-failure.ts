import type { Logger } from "pino";
import { ConfigError } from "../config/load-config.js";
import { stdoutWriter } from "../logging/line-writer.js";
import { errorSummary } from "../logging/logger.js";

/**
 * The exit codes of `cluster-token serve` when it cannot start. A supervisor may
 * restart on 1 (a port in use, an audit file that cannot be opened, may be fine in a
 * moment); 2 needs a person (the command line or the config is wrong, and will be
 * wrong on the next start too).
 */
export const startupExitCodes = {
  /** The command line, the config file or the TLS files it names, or the OpenTelemetry environment, cannot be used. */
  unusable: 2,
  /** Anything else: the service could not start with a usable config. */
  failed: 1,
} as const;

/** How long the failure line may take to reach standard output before the process exits anyway. */
const flushTimeoutMs = 1_000;

/**
 * Reports why `cluster-token serve` did not start, as one JSON line in the logger's
 * format (level `fatal`), since every line the service writes is JSON: `problems`
 * lists every problem found, each naming its key, flag or variable (a config's
 * problems come from one validation run, all at once), `exitCode` the code the
 * process exits with, and `msg` starts with "cannot start". One line rather than one
 * per problem, so that a log search for the failure finds it whole. Nothing in it
 * comes from a secret: config problems never echo values, and an error's message is
 * scrubbed.
 *
 * A `ConfigError` is reported as {@link reportUnusable} reports it (exit code 2);
 * anything else exits with 1. Resolves with the exit code once the line is written
 * (or after a second).
 */
export function reportStartupFailure(logger: Logger, err: unknown, fields: { config?: string } = {}): Promise<number> {
  if (err instanceof ConfigError) {
    const where = err.path ?? fields.config;
    return reportUnusable(logger, "the config", err.problems, "nothing was started", where === undefined ? {} : { config: where });
  }
  const error = errorSummary(err, logger);
  logger.fatal(
    { ...fields, problems: [error?.message ?? String(error?.type)], error, exitCode: startupExitCodes.failed },
    "cannot start; nothing is served",
  );
  return flushed(startupExitCodes.failed);
}

/**
 * Reports that `what` (the command line, the config, the OpenTelemetry environment)
 * cannot be used, with its `problems`, as {@link reportStartupFailure} describes:
 * exit code 2, since the next start would fail the same way.
 */
export function reportUnusable(
  logger: Logger,
  what: string,
  problems: readonly string[],
  next = "nothing was started",
  fields: Record<string, string> = {},
): Promise<number> {
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  logger.fatal({ ...fields, problems, exitCode: startupExitCodes.unusable }, `cannot start: ${what} cannot be used (${count}); ${next}`);
  return flushed(startupExitCodes.unusable);
}

async function flushed(code: number): Promise<number> {
  await stdoutWriter().drained(flushTimeoutMs);
  return code;
}
