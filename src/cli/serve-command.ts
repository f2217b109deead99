import { parseArgs } from "node:util";
import { listenAddressSchema } from "../config/schema-parts.js";
import { ConfigError, loadConfig } from "../config/load-config.js";
import { createLogger } from "../logging/logger.js";
import { routeProcessEventsTo } from "../logging/process-events.js";
import { startServer } from "../server.js";

const usage = "usage: cluster-token serve [--config FILE] [--listen-grpc HOST:PORT] [--listen-http HOST:PORT]";

/**
 * `cluster-token serve [--config FILE]`: validates the config, starts both
 * listeners and runs until SIGINT or SIGTERM, then drains. An invalid config is
 * reported key by key on stderr, with exit code 2 and nothing started.
 * `--listen-grpc` and `--listen-http` override `listen.*`, so that a second
 * instance (or a test) can run any config, the embedded one included, on other ports.
 */
export async function run(args: string[]): Promise<number> {
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
  let loaded;
  try {
    loaded = await loadConfig(values.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`cluster-token: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const listen = { grpc: values["listen-grpc"] ?? loaded.config.listen.grpc, http: values["listen-http"] ?? loaded.config.listen.http };
  loaded = { ...loaded, config: { ...loaded.config, listen } };
  const logger = createLogger({ level: loaded.config.logging.level });
  routeProcessEventsTo(logger);
  if (loaded.embedded) {
    logger.warn(
      { config: loaded.path },
      "DEVELOPMENT MODE: running on the embedded default config with demo credentials and plaintext listeners; " +
        "pass --config FILE or set CLUSTER_TOKEN_CONFIG for anything real",
    );
  }
  const server = await startServer(loaded.config, { logger });
  logger.info({ config: loaded.path }, "config loaded");
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, "shutting down");
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await server.close();
  logger.flush();
  return 0;
}
