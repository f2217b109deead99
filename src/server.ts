import type { Logger } from "pino";
import { ClusterTokenService } from "../gen/clustertoken/v1/cluster_token_service_pb.js";
import { AuditLog } from "./audit/audit-log.js";
import type { ServiceConfig } from "./config/config-schema.js";
import { ConfigError } from "./config/load-config.js";
import { AccountDiscovery, type AccountDiscoveryOptions } from "./discovery/account-discovery.js";
import { stdoutWriter } from "./logging/line-writer.js";
import { ServiceMetrics } from "./metrics/service-metrics.js";
import { type Listeners, listenOn } from "./server/listeners.js";
import { type ConfigReader, type ReloadResult, Reloader } from "./server/reload.js";
import { Shutdown } from "./server/shutdown.js";
import { SecretReferenceCheck } from "./server/secret-check.js";
import { readTlsMaterial } from "./server/tls-material.js";
import { providers } from "./providers.js";
import { createService, type ServiceOptions } from "./service.js";
import { ServingHealth } from "./transports/serving-health.js";
import type { UnaryInvoker } from "./transports/unary-invoker.js";

/** Options of {@link startServer}: those of the service it builds, less what the server owns or decides. */
export type StartOptions = Omit<ServiceOptions, "audit" | "metrics" | "previous" | "discovery"> & {
  /**
   * The account discovery's providers, timers and cycle hook (tests), and what to do once the first listings
   * have ended (the command collects their garbage); the provider list and real timers when absent.
   */
  readonly discoveryOptions?: Partial<Pick<AccountDiscoveryOptions, "providers" | "scheduler" | "random" | "onCycle" | "onFirstListings">>;
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
 * Starts the process's server on `config`: checks the TLS files, opens the metrics
 * and the audit sink (owned here, for the life of the process), builds the service,
 * and binds every listener. Health turns SERVING once all are bound. Anything that
 * fails leaves nothing open behind it.
 */
export async function startServer(config: ServiceConfig, options: StartOptions): Promise<RunningServer> {
  const { logger, discoveryOptions, ...serviceOptions } = options;
  const { material: tls, problems } = await readTlsMaterial(config.security.tls);
  if (problems.length > 0) throw new ConfigError(undefined, problems);
  // Process metrics (a GC observer, an event-loop delay monitor) only when something can scrape them.
  const metrics = new ServiceMetrics({ defaultMetrics: config.listen.metrics !== undefined });
  metrics.exposeTotal("cluster_token_log_lines_dropped_total", "Log lines dropped because standard output stayed stalled.", () => {
    return stdoutWriter().stats.dropped;
  });
  const audit = AuditLog.open(config.audit.file, {
    commitTimeoutMs: config.audit.commitTimeoutSeconds * 1000,
    observer: { written: (seconds) => metrics.auditWritten(seconds), failed: () => metrics.auditFailed() },
  });
  const health = new ServingHealth(["", ClusterTokenService.typeName]);
  // Lists in the background from here on: neither serving nor readiness waits for a cloud.
  const discovery = new AccountDiscovery({
    providers,
    ...discoveryOptions,
    logger,
    observer: metrics.discovery,
    upstreamTimeoutMs: config.limits.upstreamTimeoutSeconds * 1000,
    ...(options.clock ? { clock: options.clock } : {}),
    warn: (fields, message) => logger.warn(fields, message),
  });
  const shared = { ...serviceOptions, logger, metrics, audit, discovery };
  // Secrets that cannot be resolved are named now and as they change, not at the first call; they never stop serving.
  const secrets = new SecretReferenceCheck({ logger, report: (counts) => metrics.secretReferencesChecked(counts) });
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
    discovery.close();
    await audit.close();
    throw err;
  }
  // Each call goes to the service current when it arrives, and stays with it.
  const invoke: UnaryInvoker = (method, request, call) => reloader.current.invoke(method, request, call);
  try {
    listeners = await listenOn({ config, tls, invoke, health, metrics });
  } catch (err) {
    discovery.close();
    await reloader.close();
    await audit.close();
    throw err;
  }
  health.setServing(true);
  logServing(logger, config, listeners);
  // Once serving: a start-up that fails reports its failure alone.
  secrets.configure(config);
  const shutdown = new Shutdown({
    health,
    listeners,
    release: [async () => secrets.close(), async () => discovery.close(), () => reloader.close(), () => audit.close()],
  });
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

/** The start-up line: where each listener is, and how callers are authenticated; a loud warning in plaintext. */
function logServing(logger: Logger, config: ServiceConfig, listeners: Listeners): void {
  const { security } = config;
  const [grpc, http] = [listeners.grpc.address, listeners.http.address];
  if (security.insecurePlaintext) {
    logger.warn(
      { grpc, http },
      "INSECURE: plaintext listeners without authentication; every caller may get every credential (security.insecurePlaintext)",
    );
  }
  const fields = {
    grpc,
    http,
    ...(listeners.metrics ? { metrics: listeners.metrics.address } : {}),
    ...(listeners.health ? { health: listeners.health.address } : {}),
    clusters: config.clusters.length,
    accounts: config.accounts.length,
    tls: security.tls !== undefined,
    mtls: security.tls?.clientCaFile !== undefined,
    apiKeys: security.apiKeys.length,
  };
  logger.info(fields, "serving");
}
