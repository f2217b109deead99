import { parseArgs } from "node:util";
import { listenAddressSchema } from "../config/schema-parts.js";
import { loadConfig, reloadConfig } from "../config/load-config.js";
import type { ServiceConfig } from "../config/config-schema.js";
import { stdoutWriter } from "../logging/line-writer.js";
import { createLogger, errorSummary } from "../logging/logger.js";
import { routeProcessEventsTo } from "../logging/process-events.js";
import { providers } from "../providers.js";
import type { Tracing } from "../tracing/tracing.js";
import { readTracingSettings, TracingEnvError, type TracingSettings } from "../tracing/tracing-settings.js";
import signals from "./serve-signals.cjs";
import { collectStartupGarbage } from "./startup-garbage.js";
import { reportStartupFailure, reportUnusable } from "./startup-failure.js";

/** The options `cluster-token serve` parses; its help (`command-usage.ts`) lists each. */
export const serveOptions = {
  config: { type: "string", short: "c" },
  "listen-grpc": { type: "string" },
  "listen-http": { type: "string" },
} as const;

/** How long spans still queued at exit may take to reach the collector: well within Kubernetes' grace period. */
const tracingFlushMs = 3_000;

/**
 * `cluster-token serve [--config FILE]`: validates the config, starts the
 * listeners and runs until SIGTERM (drain delay, then a graceful stop within
 * `shutdown.graceSeconds`) or SIGINT (a graceful stop at once). SIGHUP reloads the
 * config file once it has settled, and reopens the audit file (rotation); SIGUSR1
 * reopens the audit file only, and never opens a debugger (see
 * `serve-signals.cts`, the one place signals are handled). `--listen-grpc` and
 * `--listen-http` override `listen.*`, so that a second instance (or a test) can run
 * any config, the embedded one included, on other ports.
 *
 * Every line it writes is JSON, from the first: a command line, config or TLS file
 * that cannot be used, or a start-up that fails (a port in use), is one `fatal` line
 * listing every problem (see `startup-failure.ts`), and the process exits with 2 or 1
 * with nothing started. Tracing is on when the standard OTEL_* variables configure
 * it (`src/tracing/`); variables that cannot be used are reported like an invalid config.
 */
export async function run(args: string[]): Promise<number> {
  signals.guard();
  // The config's level applies once it is read; until then, and for a config that cannot be read, "info".
  const logger = createLogger({ providers });
  routeProcessEventsTo(logger);
  signals.logTo((fields, message) => logger.info(fields, message));
  let values: { config?: string | undefined; "listen-grpc"?: string | undefined; "listen-http"?: string | undefined };
  try {
    ({ values } = parseArgs({ args, options: serveOptions, strict: true }));
    for (const flag of ["listen-grpc", "listen-http"] as const) {
      const value = values[flag];
      if (value !== undefined && !listenAddressSchema.safeParse(value).success)
        throw new Error(`--${flag} must be "host:port", e.g. "127.0.0.1:0"`);
    }
  } catch (err) {
    return reportUnusable(logger, "the command line", [(err as Error).message], "see cluster-token serve --help");
  }
  let tracingSettings: TracingSettings | undefined;
  try {
    tracingSettings = readTracingSettings(process.env);
  } catch (err) {
    if (!(err instanceof TracingEnvError)) throw err;
    return reportUnusable(logger, "the OpenTelemetry environment", err.problems);
  }
  let loaded;
  let serverModule: Promise<typeof import("../server.js")> | undefined;
  try {
    // The server's modules load while the config is read and parsed.
    const parsing = loadConfig(providers, values.config);
    serverModule = import("../server.js");
    serverModule.catch(() => {});
    loaded = await parsing;
  } catch (err) {
    return reportStartupFailure(logger, err);
  }
  // Flags override the file, at start-up and on every reload alike.
  const withFlags = (config: ServiceConfig): ServiceConfig => ({
    ...config,
    listen: { ...config.listen, grpc: values["listen-grpc"] ?? config.listen.grpc, http: values["listen-http"] ?? config.listen.http },
  });
  loaded = { ...loaded, config: withFlags(loaded.config) };
  logger.level = loaded.config.logging.level;
  if (loaded.embedded) {
    logger.warn(
      { config: loaded.path },
      "DEVELOPMENT MODE: running on the embedded default config with demo credentials and plaintext listeners; " +
        "pass --config FILE or set CLUSTER_TOKEN_CONFIG for anything real",
    );
  }
  let server: import("../server.js").RunningServer;
  let tracing: Tracing | undefined;
  try {
    const { startServer } = await (serverModule ?? import("../server.js"));
    // Only now, and only when it is on, does the OpenTelemetry SDK load.
    tracing = tracingSettings && (await (await import("../tracing/start-tracing.js")).startTracing(tracingSettings, process.env, logger));
    // The parsed file is garbage from here on: collect it before serving, not never.
    await collectStartupGarbage();
    // The first listings of the accounts leave every page they read behind, as parsing the config does.
    const discoveryOptions = { onFirstListings: () => void collectStartupGarbage() };
    server = await startServer(loaded.config, { logger, discoveryOptions, ...(tracing ? { tracing } : {}) });
  } catch (err) {
    await tracing?.shutdown(tracingFlushMs);
    return reportStartupFailure(logger, err, { config: loaded.path });
  }
  logger.info({ config: loaded.path }, "config loaded");
  const configPath = loaded.path;
  const { drainDelaySeconds, graceSeconds } = loaded.config.shutdown;
  // The file is read again once it has settled; a reload waiting for it says so.
  const readConfig = (signal: AbortSignal) =>
    reloadConfig(providers, configPath, {
      signal,
      onWait: (changedMsAgo) => logger.info({ config: configPath, changedMsAgo }, "config file changed just now; waiting for it to settle"),
    }).then(withFlags);
  // Rotation (move, then SIGHUP or SIGUSR1): the audit file is reopened, whether or not a reload applies.
  const auditFile = loaded.config.audit.file;
  const reopenAudit = () =>
    server.audit.reopen().then(
      () => {
        if (auditFile !== undefined) logger.info({ file: auditFile }, "audit file reopened");
      },
      (err: unknown) =>
        logger.error(
          { file: auditFile, error: errorSummary(err, logger) },
          "cannot reopen the audit file; issuance fails closed until it can",
        ),
    );
  const signal = await signals.serve({
    hangup: () => {
      void reopenAudit();
      void server.reload(readConfig);
    },
    // SIGUSR1 never opens a debugger; it reopens the audit file without reloading the config.
    user1: () => {
      logger.info({ signal: "SIGUSR1" }, "SIGUSR1 received; it never opens a debugger");
      void reopenAudit();
    },
  });
  // Kubernetes sends SIGTERM while it is still removing the pod from its Services' endpoints: keep serving
  // (health says NOT_SERVING) for the drain delay, so calls still routed here succeed. SIGINT stops at once.
  const delayMs = signal === "SIGTERM" ? drainDelaySeconds * 1000 : 0;
  logger.info({ signal, drainDelaySeconds: delayMs / 1000, graceSeconds }, "shutting down");
  await server.drain(delayMs);
  logger.info({ graceSeconds }, "closing the listeners; calls in flight may finish within the grace period");
  await server.close(graceSeconds * 1000);
  // After the last call: its spans are queued, and go out now (for a bounded time).
  await tracing?.shutdown(tracingFlushMs);
  logger.info({}, "stopped");
  await stdoutWriter().drained(1_000);
  return 0;
}
