import { readFileSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { ClusterTokenService } from "../gen/clustertoken/v1/cluster_token_service_pb.js";
import type { AuditLog } from "./audit/audit-log.js";
import { fixedKeysChanged } from "./config/reload-rules.js";
import type { ServiceConfig } from "./config/config-schema.js";
import { formatHostPort, parseListenAddress } from "./listen-address.js";
import { stdoutWriter } from "./logging/line-writer.js";
import { ServiceMetrics } from "./metrics/service-metrics.js";
import { createService, openAuditLog, type Service, type ServiceOptions } from "./service.js";
import { createConnectHandler } from "./transports/connect-transport.js";
import { addGrpcReflection } from "./transports/grpc-reflection.js";
import { trackConnections } from "./transports/connection-tracker.js";
import { listenGrpc, type GrpcListener } from "./transports/grpc-listener.js";
import { addGrpcService } from "./transports/grpc-transport.js";
import { listenMetrics, type MetricsListener } from "./transports/metrics-listener.js";
import { servedFiles } from "./transports/served-files.js";
import { ServingHealth } from "./transports/serving-health.js";
import type { UnaryInvoker } from "./transports/unary-invoker.js";

/** Options of {@link startServer}: those of the service it builds, less what the server owns across reloads. */
export type StartOptions = Omit<ServiceOptions, "audit" | "metrics">;

/** What a reload did. */
export type ReloadResult = { applied: true } | { applied: false; problems: string[] };

/** A running service. */
export interface RunningServer {
  /** The bound gRPC address, "host:port" (the real port when the config said 0). */
  readonly grpcAddress: string;
  /** The bound Connect address, "host:port". */
  readonly httpAddress: string;
  /** The bound metrics address, when `listen.metrics` is set. */
  readonly metricsAddress: string | undefined;
  /** The bound plaintext health address, when `listen.health` is set. */
  readonly healthAddress: string | undefined;
  /** The service behind the listeners now; a reload replaces it. */
  readonly service: Service;
  readonly metrics: ServiceMetrics;
  /** Reports NOT_SERVING on every health check while still accepting and serving calls: the start of a drain. */
  drain(): void;
  /**
   * Replaces the service with one built from `next` (clusters, credentials, grants,
   * API keys, rate limit, TLS files), without dropping a connection or a call: calls
   * in flight finish on the service they started on. Refused, with the running config
   * kept, when keys that cannot change while running differ, or the TLS files cannot
   * be read. Counted in `cluster_token_config_reloads_total` and logged either way.
   */
  reload(next: ServiceConfig): ReloadResult;
  /** Counts and logs a reload refused before it reached {@link reload} (an invalid file). */
  reloadRefused(problems: string[]): void;
  /** Reports NOT_SERVING, stops accepting, lets calls in flight finish for up to `graceMs`, then closes everything. */
  close(graceMs?: number): Promise<void>;
}

/** TLS material of both listeners, read once at start-up. */
interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  clientCa?: Buffer;
}

function readTls(config: ServiceConfig): TlsMaterial | undefined {
  const tls = config.security.tls;
  if (!tls) return undefined;
  const read = (what: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read security.tls.${what} ${file} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
    }
  };
  return {
    cert: read("certFile", tls.certFile),
    key: read("keyFile", tls.keyFile),
    ...(tls.clientCaFile ? { clientCa: read("clientCaFile", tls.clientCaFile) } : {}),
  };
}

/** A request that has not been received whole by then is answered 408 (HTTP listener). */
const requestTimeoutMs = 30_000;
/** An idle keep-alive HTTP/1.1 connection is closed after this. */
const keepAliveTimeoutMs = 5_000;

/** Builds the service from `config` and starts its listeners. */
export async function startServer(config: ServiceConfig, options: StartOptions): Promise<RunningServer> {
  const tls = readTls(config);
  // Process metrics (a GC observer, an event-loop delay monitor) only when something can scrape them.
  const metrics = new ServiceMetrics({ defaultMetrics: config.listen.metrics !== undefined });
  metrics.exposeTotal(
    "cluster_token_log_lines_dropped_total",
    "Log lines dropped because standard output stayed stalled.",
    () => stdoutWriter().stats.dropped,
  );
  const audit = openAuditLog(config, metrics);
  let service: Service;
  try {
    service = createService(config, { ...options, metrics, audit });
  } catch (err) {
    await audit.close();
    throw err;
  }
  try {
    return await attachListeners({ service, config, tls, metrics, audit, options });
  } catch (err) {
    await service.close();
    await audit.close();
    throw err;
  }
}

/** What the listeners are attached to. */
interface ListenerParts {
  service: Service;
  config: ServiceConfig;
  tls: TlsMaterial | undefined;
  metrics: ServiceMetrics;
  audit: AuditLog;
  options: StartOptions;
}

/**
 * Opens the gRPC listener (ClusterTokenService, health, reflection), the Connect
 * listener and the metrics listener in front of the current service. Health turns
 * SERVING only once all are bound. Closing stops them, lets calls in flight finish,
 * then closes the service and the audit sink.
 */
async function attachListeners({ service: initial, config, tls, metrics, audit, options }: ListenerParts): Promise<RunningServer> {
  const { logger } = options;
  const { security } = config;
  let service = initial;
  const health = new ServingHealth(["", ClusterTokenService.typeName]);
  // Each call goes to the service current when it arrives, and stays with it.
  const invoke: UnaryInvoker = (method, request, call) => service.invoke(method, request, call);
  const { maxMessageBytes, handshakeTimeoutSeconds, headersTimeoutSeconds, idleTimeoutSeconds, maxConnections } = config.limits;

  const grpcServer = new grpc.Server({
    // Channelz (grpc-js's introspection service) is not served; its per-call bookkeeping would be paid for nothing.
    "grpc.enable_channelz": 0,
    "grpc.max_receive_message_length": maxMessageBytes,
    "grpc.max_connection_idle_ms": idleTimeoutSeconds * 1000,
  });
  addGrpcService(grpcServer, ClusterTokenService, invoke);
  health.addToGrpcServer(grpcServer);
  if (security.reflection) addGrpcReflection(grpcServer, servedFiles);

  const connectHandler = createConnectHandler(ClusterTokenService, invoke, {
    readMaxBytes: maxMessageBytes,
    moreRoutes: (router) => health.addToConnectRouter(router),
  });
  const serverOptions = {
    headersTimeout: headersTimeoutSeconds * 1000,
    // Check the headers and request timeouts often enough for them to bite when configured short (Node checks every 30 s by default).
    connectionsCheckingInterval: Math.min(1_000, (headersTimeoutSeconds * 1000) / 2),
    requestTimeout: Math.max(requestTimeoutMs, headersTimeoutSeconds * 1000),
    keepAliveTimeout: keepAliveTimeoutMs,
    maxHeaderSize: 16 * 1024,
  };
  const httpServer: HttpServer = tls
    ? createHttpsServer(
        {
          ...serverOptions,
          cert: tls.cert,
          key: tls.key,
          minVersion: "TLSv1.2",
          handshakeTimeout: handshakeTimeoutSeconds * 1000,
          ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
        },
        connectHandler,
      )
    : createServer(serverOptions, connectHandler);
  httpServer.maxConnections = maxConnections;
  const httpConnections = trackConnections(httpServer);

  let grpcListener: GrpcListener | undefined;
  let metricsListener: MetricsListener | undefined;
  let healthListener: GrpcListener | undefined;
  // The kubelet's gRPC probe speaks no TLS: a plaintext port that serves nothing but health.
  const healthServer = config.listen.health ? new grpc.Server({ "grpc.max_receive_message_length": 1024 }) : undefined;
  if (healthServer) health.addToGrpcServer(healthServer);
  let httpAddress: string;
  try {
    grpcListener = await listenGrpc(grpcServer, config.listen.grpc, {
      ...(tls
        ? {
            tls: {
              cert: tls.cert,
              key: tls.key,
              ...(tls.clientCa ? { ca: tls.clientCa } : {}),
              requireClientCert: tls.clientCa !== undefined,
            },
          }
        : {}),
      handshakeTimeoutMs: handshakeTimeoutSeconds * 1000,
      maxConnections,
    });
    httpAddress = await listenHttp(httpServer, config.listen.http);
    if (config.listen.metrics) metricsListener = await listenMetrics(config.listen.metrics, metrics, health);
    if (healthServer && config.listen.health) {
      healthListener = await listenGrpc(healthServer, config.listen.health, {
        handshakeTimeoutMs: handshakeTimeoutSeconds * 1000,
        maxConnections: 64,
      });
    }
  } catch (err) {
    await grpcListener?.close();
    await metricsListener?.close();
    healthServer?.forceShutdown();
    if (httpServer.listening) await new Promise((resolve) => httpServer.close(resolve));
    grpcServer.forceShutdown();
    httpServer.close();
    throw err;
  }
  const grpcAddress = grpcListener.address;
  health.setServing(true);
  if (security.insecurePlaintext) {
    logger.warn(
      { grpc: grpcAddress, http: httpAddress },
      "INSECURE: plaintext listeners without authentication; every caller may get every credential (security.insecurePlaintext)",
    );
  }
  logger.info(
    {
      grpc: grpcAddress,
      http: httpAddress,
      ...(metricsListener ? { metrics: metricsListener.address } : {}),
      ...(healthListener ? { health: healthListener.address } : {}),
      clusters: config.clusters.length,
      tls: tls !== undefined,
      mtls: tls?.clientCa !== undefined,
      apiKeys: security.apiKeys.length,
    },
    "serving",
  );

  const tlsServers = [httpServer, grpcListener.tlsServer].filter((server) => server !== undefined && "setSecureContext" in server);
  return {
    grpcAddress,
    httpAddress,
    metricsAddress: metricsListener?.address,
    healthAddress: healthListener?.address,
    get service() {
      return service;
    },
    metrics,
    drain: () => health.setServing(false),
    reload(next) {
      const refuse = (problems: string[]): ReloadResult => {
        metrics.configReloaded(false);
        logger.error({ problems }, "config reload refused; the running config stays");
        return { applied: false, problems };
      };
      const fixed = fixedKeysChanged(service.config, next);
      if (fixed.length > 0) return refuse(fixed.map((key) => `${key} cannot change while running; restart to change it`));
      let nextTls: TlsMaterial | undefined;
      let nextService: Service;
      try {
        nextTls = readTls(next);
        nextService = createService(next, { ...options, metrics, audit });
      } catch (err) {
        return refuse([(err as Error).message]);
      }
      if (nextTls) {
        const context = { cert: nextTls.cert, key: nextTls.key, ...(nextTls.clientCa ? { ca: nextTls.clientCa } : {}) };
        // New handshakes get the new certificate; established connections keep theirs.
        for (const server of tlsServers) (server as { setSecureContext(options: object): void }).setSecureContext(context);
      }
      const previous = service;
      service = nextService;
      void previous.close();
      logger.level = next.logging.level;
      metrics.configReloaded(true);
      logger.info({ clusters: next.clusters.length, apiKeys: next.security.apiKeys.length, tls: nextTls !== undefined }, "config reloaded");
      return { applied: true };
    },
    reloadRefused(problems) {
      metrics.configReloaded(false);
      logger.error({ problems }, "config reload refused; the running config stays");
    },
    async close(graceMs = 5_000) {
      health.setServing(false);
      const timer = setTimeout(() => {
        grpcServer.forceShutdown();
        grpcListener.destroyConnections();
        httpConnections.destroyAll();
      }, graceMs);
      await Promise.all([
        grpcListener.close(),
        new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve())),
        new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeIdleConnections();
        }),
      ]);
      clearTimeout(timer);
      await metricsListener?.close();
      healthServer?.forceShutdown();
      healthListener?.destroyConnections();
      await healthListener?.close();
      await service.close();
      await audit.close();
    },
  };
}

function listenHttp(server: HttpServer, address: string): Promise<string> {
  const { host, port } = parseListenAddress(address);
  return new Promise((resolve, reject) => {
    server.once("error", (err) => reject(new Error(`cannot listen for HTTP on ${address}: ${err.message}`)));
    server.listen(port, host, () => resolve(formatHostPort(host, (server.address() as AddressInfo).port)));
  });
}
