import { readFileSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import { ClusterTokenService, file_clustertoken_v1_cluster_token_service } from "../gen/clustertoken/v1/cluster_token_service_pb.js";
import { file_health_v1_health } from "../gen/health/v1/health_pb.js";
import type { ServiceConfig } from "./config/config-schema.js";
import { formatHostPort, parseListenAddress } from "./listen-address.js";
import { createService, type Service, type ServiceOptions } from "./service.js";
import { createConnectHandler } from "./transports/connect-transport.js";
import { addGrpcReflection } from "./transports/grpc-reflection.js";
import { trackConnections } from "./transports/connection-tracker.js";
import { listenGrpc, type GrpcListener } from "./transports/grpc-listener.js";
import { addGrpcService } from "./transports/grpc-transport.js";

/** Options of {@link startServer}: those of the service it builds. */
export type StartOptions = ServiceOptions;

/** A running service. */
export interface RunningServer {
  /** The bound gRPC address, "host:port" (the real port when the config said 0). */
  readonly grpcAddress: string;
  /** The bound Connect address, "host:port". */
  readonly httpAddress: string;
  /** The service behind the listeners. */
  readonly service: Service;
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
  const service = createService(config, options);
  try {
    return await attachListeners(service, config, tls, options.logger);
  } catch (err) {
    await service.close();
    throw err;
  }
}

/**
 * Opens the gRPC listener (ClusterTokenService, health, reflection) and the Connect
 * listener in front of `service`. Health turns SERVING only once both are bound.
 * Closing stops them, lets calls in flight finish, then closes the service.
 */
async function attachListeners(
  service: Service,
  config: ServiceConfig,
  tls: TlsMaterial | undefined,
  logger: Logger,
): Promise<RunningServer> {
  const { security } = config;
  const { invoke, health } = service;
  const { maxMessageBytes, handshakeTimeoutSeconds, headersTimeoutSeconds, idleTimeoutSeconds, maxConnections } = config.limits;

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
  const httpConnections = trackConnections(httpServer);

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
    service,
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
      await service.close();
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
