import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import type { Logger } from "pino";
import { ClusterTokenService, file_clustertoken_v1_cluster_token_service } from "../gen/clustertoken/v1/cluster_token_service_pb.js";
import { file_health_v1_health } from "../gen/health/v1/health_pb.js";
import { knownProviders, type CredentialConfig, type ProviderName, type ServiceConfig } from "./config/config-schema.js";
import { ClusterAccessResolver } from "./core/cluster-access-resolver.js";
import { createClusterTokenHandlers } from "./core/cluster-token-handlers.js";
import { ClusterRegistry } from "./core/cluster-registry.js";
import { createAwsProvider } from "./drivers/aws/aws-provider.js";
import type { ClusterOf, DriverSet, ProviderDrivers } from "./drivers/driver.js";
import { createGcpProvider } from "./drivers/gcp/gcp-provider.js";
import { createNcpProvider } from "./drivers/ncp/ncp-provider.js";
import { formatHostPort, parseListenAddress } from "./listen-address.js";
import { createConnectHandler } from "./transports/connect-transport.js";
import { addGrpcReflection } from "./transports/grpc-reflection.js";
import { addGrpcService } from "./transports/grpc-transport.js";
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

type CredentialsOf<P extends ProviderName> = Readonly<Record<string, Extract<CredentialConfig, { provider: P }>>>;

/**
 * Each provider's drivers, from its `credentials` entries. This map is the one place
 * a new cloud is registered.
 */
const providerFactories: { [P in ProviderName]: (credentials: CredentialsOf<P>, now?: () => Date) => ProviderDrivers<ClusterOf<P>> } = {
  aws: createAwsProvider,
  gcp: (credentials) => createGcpProvider(credentials),
  ncp: createNcpProvider,
};

/** Builds the drivers of every provider the config has credentials for. */
export function createDriverSet(config: ServiceConfig, now?: () => Date): DriverSet {
  const drivers: Partial<Record<ProviderName, ProviderDrivers<never>>> = {};
  for (const provider of knownProviders) {
    const credentials = Object.fromEntries(Object.entries(config.credentials).filter(([, c]) => c.provider === provider));
    if (Object.keys(credentials).length > 0) drivers[provider] = (providerFactories[provider] as (c: unknown, now?: () => Date) => ProviderDrivers<never>)(credentials, now);
  }
  return drivers as DriverSet;
}

/**
 * Starts the service: the gRPC listener (ClusterTokenService, health, reflection)
 * and the Connect listener, both calling one implementation. Health turns SERVING
 * only once both listeners are bound.
 */
export async function startServer(config: ServiceConfig, { logger, now }: StartOptions): Promise<RunningServer> {
  const drivers = createDriverSet(config, now);
  const access = new ClusterAccessResolver(drivers, { ttlMs: config.discovery.cacheTtlSeconds * 1000 });
  const exec = { ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}), command: config.kubeconfig.execCommand };
  const handlers = createClusterTokenHandlers({ registry: ClusterRegistry.fromConfig(config.clusters), drivers, access, exec });
  const invoke = createUnaryInvoker(ClusterTokenService, handlers, logger);
  const { maxMessageBytes } = config.limits;

  const grpcServer = new grpc.Server({ "grpc.max_receive_message_length": maxMessageBytes });
  addGrpcService(grpcServer, ClusterTokenService, invoke);
  const healthServices = ["", ClusterTokenService.typeName];
  const health = new HealthImplementation(Object.fromEntries(healthServices.map((s) => [s, "NOT_SERVING"])));
  health.addToServer(grpcServer);
  addGrpcReflection(grpcServer, [file_clustertoken_v1_cluster_token_service, file_health_v1_health]);

  const httpServer = createServer(
    { headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000, maxHeaderSize: 16 * 1024 },
    createConnectHandler(ClusterTokenService, invoke, { readMaxBytes: maxMessageBytes }),
  );

  let grpcAddress: string;
  let httpAddress: string;
  try {
    grpcAddress = await bindGrpc(grpcServer, config.listen.grpc);
    httpAddress = await listenHttp(httpServer, config.listen.http);
  } catch (err) {
    grpcServer.forceShutdown();
    httpServer.close();
    throw err;
  }
  for (const service of healthServices) health.setStatus(service, "SERVING");
  logger.info({ grpc: grpcAddress, http: httpAddress, clusters: config.clusters.length }, "serving");

  return {
    grpcAddress,
    httpAddress,
    async close(graceMs = 5_000) {
      for (const service of healthServices) health.setStatus(service, "NOT_SERVING");
      const timer = setTimeout(() => {
        grpcServer.forceShutdown();
        httpServer.closeAllConnections();
      }, graceMs);
      await Promise.all([
        new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve())),
        new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeIdleConnections();
        }),
      ]);
      clearTimeout(timer);
    },
  };
}

function bindGrpc(server: grpc.Server, address: string): Promise<string> {
  const { host } = parseListenAddress(address);
  return new Promise((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(new Error(`cannot listen for gRPC on ${address}: ${err.message}`)) : resolve(formatHostPort(host, port)),
    ),
  );
}

function listenHttp(server: HttpServer, address: string): Promise<string> {
  const { host, port } = parseListenAddress(address);
  return new Promise((resolve, reject) => {
    server.once("error", (err) => reject(new Error(`cannot listen for HTTP on ${address}: ${err.message}`)));
    server.listen(port, host, () => resolve(formatHostPort(host, (server.address() as AddressInfo).port)));
  });
}
