import { parseArgs } from "node:util";
import { listenAddressSchema } from "../config/schema-parts.js";
import { ConfigError, loadConfig, reloadConfig } from "../config/load-config.js";
import type { ServiceConfig } from "../config/config-schema.js";
import { stdoutWriter } from "../logging/line-writer.js";
import { createLogger, errorSummary } from "../logging/logger.js";
import { routeProcessEventsTo } from "../logging/process-events.js";
import { providers } from "../providers.js";
import { readTracingSettings, TracingEnvError, type TracingSettings } from "../tracing/tracing-settings.js";
import signals from "./serve-signals.cjs";
import { collectStartupGarbage } from "./startup-garbage.js";

const usage = "usage: cluster-token serve [--config FILE] [--listen-grpc HOST:PORT] [--listen-http HOST:PORT]";

/** How long spans still queued at exit may take to reach the collector: well within Kubernetes' grace period. */
const tracingFlushMs = 3_000;

/**
 * `cluster-token serve [--config FILE]`: validates the config, starts the
 * listeners and runs until SIGTERM (drain delay, then a graceful stop within
 * `shutdown.graceSeconds`) or SIGINT (a graceful stop at once). SIGHUP reloads the
 * config file once it has settled, and reopens the audit file (rotation); SIGUSR1
 * reopens the audit file only, and never opens a debugger (see
 * `serve-signals.cts`, the one place signals are handled). An invalid config is
 * reported key by key on stderr, with exit code 2 and nothing started.
 * `--listen-grpc` and `--listen-http` override `listen.*`, so that a second
 * instance (or a test) can run any config, the embedded one included, on other ports.
 * Tracing is on when the standard OTEL_* variables configure it (`src/tracing/`); a
 * variable that cannot be used is reported like an invalid config, exit code 2.
 */
export async function run(args: string[]): Promise<number> {
  signals.guard();
  let values: { config?: string | undefined; "listen-grpc"?: string | undefined; "listen-http"?: string | undefined };
  try {
    ({ values } = parseArgs({
      args,
      options: { config: { type: "string", short: "c" }, "listen-grpc": { type: "string" }, "listen-http": { type: "string" } },
      strict: true,
    }));
    for (const flag of ["listen-grpc", "listen-http"] as const) {
      const value = values[flag];
      if (value !== undefined && !listenAddressSchema.safeParse(value).success)
        throw new Error(`--${flag} must be "host:port", e.g. "127.0.0.1:0"`);
    }
  } catch (err) {
    process.stderr.write(`cluster-token serve: ${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  let tracingSettings: TracingSettings | undefined;
  try {
    tracingSettings = readTracingSettings(process.env);
  } catch (err) {
    if (!(err instanceof TracingEnvError)) throw err;
    process.stderr.write(`cluster-token: ${err.message}\n`);
    return 2;
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
    if (err instanceof ConfigError) {
      process.stderr.write(`cluster-token: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  // Flags override the file, at start-up and on every reload alike.
  const withFlags = (config: ServiceConfig): ServiceConfig => ({
    ...config,
    listen: { ...config.listen, grpc: values["listen-grpc"] ?? config.listen.grpc, http: values["listen-http"] ?? config.listen.http },
  });
  loaded = { ...loaded, config: withFlags(loaded.config) };
  const logger = createLogger({ level: loaded.config.logging.level, providers });
  routeProcessEventsTo(logger);
  signals.logTo((fields, message) => logger.info(fields, message));
  if (loaded.embedded) {
    logger.warn(
      { config: loaded.path },
      "DEVELOPMENT MODE: running on the embedded default config with demo credentials and plaintext listeners; " +
        "pass --config FILE or set CLUSTER_TOKEN_CONFIG for anything real",
    );
  }
  const { startServer } = await (serverModule ?? import("../server.js"));
  // Only now, and only when it is on, does the OpenTelemetry SDK load.
  const tracing =
    tracingSettings && (await (await import("../tracing/start-tracing.js")).startTracing(tracingSettings, process.env, logger));
  // The parsed file is garbage from here on: collect it before serving, not never.
  await collectStartupGarbage();
  // The first listings of the accounts leave every page they read behind, as parsing the config does.
  const discoveryOptions = { onFirstListings: () => void collectStartupGarbage() };
  const server = await startServer(loaded.config, { logger, discoveryOptions, ...(tracing ? { tracing } : {}) }).catch(
    async (err: unknown) => {
      await tracing?.shutdown(tracingFlushMs);
      throw err;
    },
  );
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
