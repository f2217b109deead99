import type { Logger } from "pino";
import { stdoutWriter } from "./line-writer.js";
import { errorSummary, scrubCredentials } from "./logger.js";

/**
 * Sends what Node itself would print to stderr through the structured logger, so
 * that the output stays one JSON object per line: process warnings (such as the AWS
 * SDK's multi-line Node-version notice) as one `warn` line each, and an uncaught
 * exception or unhandled rejection as one `fatal` line with a scrubbed summary
 * instead of a raw stack trace, after which the process exits with status 1.
 */
export function routeProcessEventsTo(logger: Logger): void {
  process.removeAllListeners("warning");
  process.on("warning", (warning) => {
    const code = (warning as { code?: unknown }).code;
    const message = scrubCredentials(warning.message.replace(/\s+/g, " ").trim(), logger).slice(0, 500);
    logger.warn({ warning: { type: warning.name, ...(typeof code === "string" ? { code } : {}), message } }, "process warning");
  });
  const fatal = (what: string) => (err: unknown) => {
    logger.fatal({ error: errorSummary(err, logger) ?? { type: typeof err } }, what);
    // Give the line a moment to reach standard output; the writer never blocks, so this wait is what flushes it.
    void stdoutWriter()
      .drained(1_000)
      .finally(() => process.exit(1));
  };
  process.on("uncaughtException", fatal("uncaught exception"));
  process.on("unhandledRejection", fatal("unhandled rejection"));
}
