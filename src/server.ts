import { ClusterTokenService } from "../gen/clustertoken/v1/cluster_token_service_pb.js";
import type { AuditLog } from "./audit/audit-log.js";
import type { ServiceConfig } from "./config/config-schema.js";
import { ConfigError } from "./config/load-config.js";
import type { AccountDiscovery } from "./discovery/account-discovery.js";
import { type Listeners, listenOn } from "./server/listeners.js";
import { type ConfigReader, type ReloadResult, Reloader } from "./server/reload.js";
import { Shutdown } from "./server/shutdown.js";
import { type DiscoveryOptions, openProcessParts } from "./server/process-parts.js";
import { logServing } from "./server/serving-line.js";
import { readTlsMaterial } from "./server/tls-material.js";
import { createService, type ServiceOptions } from "./service.js";
import { ServingHealth } from "./transports/serving-health.js";
import type { UnaryInvoker } from "./transports/unary-invoker.js";

/** Options of {@link startServer}: those of the service it builds, less what the server owns or decides. */
export type StartOptions = Omit<ServiceOptions, "audit" | "metrics" | "previous" | "discovery"> & {
  /** The account discovery's providers and timers (tests), and what to do once the first listings have ended (the command collects their garbage). */
  readonly discoveryOptions?: DiscoveryOptions;
};

/**
 * The running process's server: the listeners in front of the current service, and
 * what outlives reloads: the audit sink, the metrics and the health status.
 */
export interface RunningServer {
  /** The bound gRPC address, "host:port" (the real port when the config said 0). */
  readonly grpcAddress: string;
  /** The bound Connect address, "host:port". */
  readonly httpAddress: string;
  /** The bound metrics address, when `listen.metrics` is set. */
  readonly metricsAddress: string | undefined;
  /** The bound plaintext health address, when `listen.health` is set. */
  readonly healthAddress: string | undefined;
  /** The audit sink, which the server opened and closes last; every service writes to it. */
  readonly audit: AuditLog;
  /** The discovery of the clusters of `accounts`, which the server keeps across reloads; every service reads it. */
  readonly discovery: AccountDiscovery;
  /** Replaces the service with one built from what `read` returns; see {@link Reloader}. */
  reload(read: ConfigReader): Promise<ReloadResult>;
  /** Reports NOT_SERVING on every health check while calls are still served, and resolves after `delayMs`. */
  drain(delayMs: number): Promise<void>;
  /** Stops accepting, lets calls in flight finish for up to `graceMs`, then closes everything; see {@link Shutdown}. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Starts the process's server on `config`: checks the TLS files, opens what the
 * process owns for its life ({@link openProcessParts}), builds the service, and
 * binds every listener. Health turns SERVING once all are bound. Anything that
 * fails leaves nothing open behind it.
 */
export async function startServer(config: ServiceConfig, options: StartOptions): Promise<RunningServer> {
  const { logger, discoveryOptions, ...serviceOptions } = options;
  const { material: tls, problems } = await readTlsMaterial(config.security.tls);
  if (problems.length > 0) throw new ConfigError(undefined, problems);
  const { metrics, audit, discovery, secrets, stopWatching } = openProcessParts(config, options);
  const health = new ServingHealth(["", ClusterTokenService.typeName]);
  const shared = { ...serviceOptions, logger, metrics, audit, discovery };
  let listeners: Listeners | undefined;
  let reloader: Reloader;
  try {
    reloader = new Reloader(createService(config, shared), {
      logger,
      metrics,
      build: (next, previous) => createService(next, { ...shared, previous }),
      tlsServers: () => listeners?.tlsServers ?? [],
      applied: (next) => {
        discovery.configure(next);
        secrets.configure(next);
      },
    });
    discovery.configure(config);
  } catch (err) {
    stopWatching();
    await audit.close();
    throw err;
  }
  // Each call goes to the service current when it arrives, and stays with it.
  const invoke: UnaryInvoker = (method, request, call) => reloader.current.invoke(method, request, call);
  try {
    listeners = await listenOn({ config, tls, invoke, health, metrics });
  } catch (err) {
    stopWatching();
    await reloader.close();
    await audit.close();
    throw err;
  }
  health.setServing(true);
  logServing(logger, config, listeners);
  // Once serving: a start-up that fails reports its failure alone; unresolvable secrets never stop serving.
  secrets.configure(config);
  const shutdown = new Shutdown({ health, listeners, release: [async () => stopWatching(), () => reloader.close(), () => audit.close()] });
  return {
    grpcAddress: listeners.grpc.address,
    httpAddress: listeners.http.address,
    metricsAddress: listeners.metrics?.address,
    healthAddress: listeners.health?.address,
    audit,
    discovery,
    reload: (read) => reloader.reload(read),
    drain: (delayMs) => shutdown.drain(delayMs),
    close: (graceMs = 5_000) => shutdown.close(graceMs),
  };
}
