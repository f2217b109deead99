import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../config/load-config.js";
import { createLogger } from "../logging/logger.js";
import { routeProcessEventsTo } from "../logging/process-events.js";
import { startServer } from "../server.js";

/**
 * `cluster-token serve [--config FILE]`: validates the config, starts both
 * listeners and runs until SIGINT or SIGTERM, then drains. An invalid config is
 * reported key by key on stderr, with exit code 2 and nothing started.
 */
export async function run(args: string[]): Promise<number> {
  let configPath: string | undefined;
  try {
    ({ values: { config: configPath } } = parseArgs({ args, options: { config: { type: "string", short: "c" } }, strict: true }));
  } catch (err) {
    process.stderr.write(`cluster-token serve: ${(err as Error).message}\nusage: cluster-token serve [--config FILE]\n`);
    return 2;
  }
  let loaded;
  try {
    loaded = await loadConfig(configPath);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`cluster-token: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
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
