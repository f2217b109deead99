import { readFileSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import { ClusterTokenService, file_clustertoken_v1_cluster_token_service } from "../gen/clustertoken/v1/cluster_token_service_pb.js";
import { file_health_v1_health } from "../gen/health/v1/health_pb.js";
import { AuditLog } from "./audit/audit-log.js";
import { AccessPolicy } from "./auth/access-policy.js";
import { Authenticator } from "./auth/authenticator.js";
import { RateLimiter } from "./auth/rate-limiter.js";
import type { ServiceConfig } from "./config/config-schema.js";
import { ClusterAccessResolver } from "./core/cluster-access-resolver.js";
import { createClusterTokenHandlers } from "./core/cluster-token-handlers.js";
import { ClusterRegistry } from "./core/cluster-registry.js";
import type { DriverSet } from "./core/registered-cluster.js";
import type { ProviderOptions } from "./drivers/driver.js";
import { providers } from "./providers.js";
import { formatHostPort, parseListenAddress } from "./listen-address.js";
import { createConnectHandler } from "./transports/connect-transport.js";
import { addGrpcReflection } from "./transports/grpc-reflection.js";
import { listenGrpc, type GrpcListener } from "./transports/grpc-listener.js";
import { addGrpcService } from "./transports/grpc-transport.js";
import { ServingHealth } from "./transports/serving-health.js";
import { createUnaryInvoker } from "./transports/unary-invoker.js";

/** Options of {@link startServer}. */
export interface StartOptions {
  logger: Logger;
  /** The clock of every driver; tests pin it. */
  now?: () => Date;
}

/** A running service. */
export interface RunningServer {
  /** The bound gRPC address, "host:port" (the real port when the config said 0). */
  readonly grpcAddress: string;
  /** The bound Connect address, "host:port". */
  readonly httpAddress: string;
  /** Reports NOT_SERVING, stops accepting, lets calls in flight finish for up to `graceMs`, then closes everything. */
  close(graceMs?: number): Promise<void>;
}

/** Builds the drivers of every provider the config has credentials for. */
export function createDriverSet(config: ServiceConfig, now?: () => Date): DriverSet {
  const options: ProviderOptions = { upstreamTimeoutMs: config.limits.upstreamTimeoutSeconds * 1000, ...(now ? { now } : {}) };
  const drivers: { -readonly [P in keyof DriverSet]: DriverSet[P] } = {};
  for (const provider of providers) {
    const built = provider.driversFrom(config.credentials, options);
    if (built) drivers[provider.name] = built;
  }
  return drivers;
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

/**
 * Starts the service: the gRPC listener (ClusterTokenService, health, reflection)
 * and the Connect listener, both calling one implementation. Health turns SERVING
 * only once both listeners are bound.
 */
export async function startServer(config: ServiceConfig, { logger, now }: StartOptions): Promise<RunningServer> {
  const { security } = config;
  const tls = readTls(config);
  const audit = AuditLog.open(config.audit.file);
  const drivers = createDriverSet(config, now);
  const access = new ClusterAccessResolver(drivers, {
    ttlMs: config.discovery.cacheTtlSeconds * 1000,
    attemptTimeoutMs: config.limits.upstreamTimeoutSeconds * 1000,
    maxEntries: Math.max(1, config.clusters.length),
  });
  const exec = { ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}), command: config.kubeconfig.execCommand };
  const policy = security.insecurePlaintext ? AccessPolicy.allowAll() : AccessPolicy.fromGrants(security.grants);
  const handlers = createClusterTokenHandlers({ registry: ClusterRegistry.fromConfig(config.clusters), drivers, access, exec, policy });
  const invoke = createUnaryInvoker(ClusterTokenService, handlers, {
    logger,
    audit,
    authenticator: security.insecurePlaintext ? Authenticator.none() : Authenticator.withKeys(security.apiKeys),
    ...(security.rateLimit ? { rateLimiter: new RateLimiter(security.rateLimit) } : {}),
    maxCallMs: config.limits.maxCallSeconds * 1000,
  });
  const { maxMessageBytes, handshakeTimeoutSeconds, headersTimeoutSeconds, idleTimeoutSeconds, maxConnections } = config.limits;
  const health = new ServingHealth(["", ClusterTokenService.typeName]);

  const grpcServer = new grpc.Server({
    "grpc.max_receive_message_length": maxMessageBytes,
    "grpc.max_connection_idle_ms": idleTimeoutSeconds * 1000,
  });
  addGrpcService(grpcServer, ClusterTokenService, invoke);
  health.addToGrpcServer(grpcServer);
  if (security.reflection) addGrpcReflection(grpcServer, [file_clustertoken_v1_cluster_token_service, file_health_v1_health]);

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

  let grpcListener: GrpcListener | undefined;
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
  } catch (err) {
    await grpcListener?.close();
    grpcServer.forceShutdown();
    httpServer.close();
    audit.close();
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
      clusters: config.clusters.length,
      tls: tls !== undefined,
      mtls: tls?.clientCa !== undefined,
      apiKeys: security.apiKeys.length,
    },
    "serving",
  );

  return {
    grpcAddress,
    httpAddress,
    async close(graceMs = 5_000) {
      health.setServing(false);
      const timer = setTimeout(() => {
        grpcServer.forceShutdown();
        httpServer.closeAllConnections();
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
      audit.close();
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
