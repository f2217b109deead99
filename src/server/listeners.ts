import type { SecureContextOptions } from "node:tls";
import type * as grpc from "@grpc/grpc-js";
import { ClusterTokenService } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import type { ServiceConfig } from "../config/config-schema.js";
import type { ServiceMetrics } from "../metrics/service-metrics.js";
import { GrpcElsewhereAnswer, withGrpcElsewhere } from "../transports/connect-rejections.js";
import { createConnectHandler } from "../transports/connect-transport.js";
import type { ConnectionGuardOptions } from "../transports/connection-guard.js";
import { createGrpcServer, type GrpcListenOptions, listenGrpc } from "../transports/grpc-listener.js";
import { addGrpcReflection } from "../transports/grpc-reflection.js";
import { addGrpcService } from "../transports/grpc-transport.js";
import { listenHttp } from "../transports/http-listener.js";
import { listenMetrics } from "../transports/metrics-listener.js";
import { servedFiles } from "../transports/served-files.js";
import type { ServingHealth } from "../transports/serving-health.js";
import type { UnaryInvoker } from "../transports/unary-invoker.js";
import { listenerTls, type TlsMaterial } from "./tls-material.js";

/** One bound listener, as the shutdown and a failed start-up see it. */
export interface Listener {
  /** "host:port", with the real port when the config said 0. */
  readonly address: string;
  /** Stops accepting and resolves once its connections have ended: calls in flight finish first. */
  close(): Promise<void>;
  /** Ends every connection at once, handshakes and calls in flight included. */
  destroy(): void;
}

/** A TLS listener's server, on which a rotation sets the new certificate, key and client CA. */
export interface TlsServer {
  setSecureContext(options: SecureContextOptions): void;
}

/** Every listener of the process, bound. */
export interface Listeners {
  /** ClusterTokenService, health and (when enabled) reflection over gRPC. */
  readonly grpc: Listener;
  /** ClusterTokenService and health over Connect, gRPC-Web and gRPC on HTTP/1.1 (HTTPS with TLS). */
  readonly http: Listener;
  /** `listen.metrics`: `/metrics`, `/healthz`, `/readyz`. */
  readonly metrics: Listener | undefined;
  /** `listen.health`: plaintext grpc.health.v1 only, for the kubelet's gRPC probe. */
  readonly health: Listener | undefined;
  /** The TLS servers of the gRPC and HTTP listeners (none in plaintext). */
  readonly tlsServers: readonly TlsServer[];
}

/** What the listeners serve. */
export interface ListenerParts {
  config: ServiceConfig;
  /** The TLS material, read and checked; undefined in plaintext. */
  tls: TlsMaterial | undefined;
  /** ClusterTokenService, whichever service is current. */
  invoke: UnaryInvoker;
  health: ServingHealth;
  metrics: ServiceMetrics;
}

/** A health check is a few bytes; anything larger on the health port is refused. */
const healthPortMaxMessageBytes = 1024;

/**
 * Binds every listener the config asks for and serves each: gRPC, HTTP, then the
 * metrics and health ports. Binding is all or nothing: when one fails, those
 * already bound are closed before the error is thrown, so a failed start-up leaves
 * no port open and no server running.
 */
export async function listenOn(parts: ListenerParts): Promise<Listeners> {
  const bound: Listener[] = [];
  const bind = async <L extends Listener>(open: () => Promise<L>): Promise<L> => {
    const listener = await open();
    bound.push(listener);
    return listener;
  };
  const { metrics: metricsAddress, health: healthAddress } = parts.config.listen;
  try {
    const grpc = await bind(() => grpcCallsListen(parts));
    const http = await bind(() => httpListen(parts, grpc.address));
    const metrics = metricsAddress ? await bind(() => metricsListen(metricsAddress, parts)) : undefined;
    const health = healthAddress ? await bind(() => healthPortListen(healthAddress, parts)) : undefined;
    const tlsServers = [grpc.tlsServer, http.tlsServer].filter((server) => server !== undefined);
    return { grpc, http, metrics, health, tlsServers };
  } catch (err) {
    for (const listener of bound) listener.destroy();
    await Promise.all(bound.map((listener) => listener.close()));
    throw err;
  }
}

/**
 * A listener's connection guard (see connection-guard.ts): at most `maxConnections`,
 * stalled for at most `stalledSeconds` from accept.
 */
function guarded(limits: ServiceConfig["limits"], maxConnections: number, stalledSeconds: number): ConnectionGuardOptions {
  return { maxConnections, maxStalledPerAddress: limits.maxStalledConnectionsPerAddress, stalledTimeoutMs: stalledSeconds * 1000 };
}

/** ClusterTokenService, health and (when `security.reflection` is on) reflection on the gRPC listener. */
function grpcCallsListen(parts: ListenerParts): Promise<Listener & { tlsServer?: TlsServer }> {
  const { config, tls } = parts;
  const { limits } = config;
  return grpcListen(callsGrpcServer(parts), config.listen.grpc, {
    ...(tls ? { tls: listenerTls(tls) } : {}),
    connections: guarded(limits, limits.maxConnections, limits.handshakeTimeoutSeconds),
  });
}

/** The plaintext health port: the kubelet's gRPC probe speaks no TLS. */
function healthPortListen(address: string, parts: ListenerParts): Promise<Listener> {
  const { limits } = parts.config;
  return grpcListen(healthGrpcServer(parts), address, {
    connections: guarded(limits, limits.maxProbeConnections, limits.handshakeTimeoutSeconds),
  });
}

/** The gRPC server of the calls, its streams guarded (see grpc-listener.ts). */
function callsGrpcServer({ config, invoke, health }: ListenerParts): grpc.Server {
  const server = createGrpcServer(config.limits, { "grpc.max_receive_message_length": config.limits.maxMessageBytes });
  addGrpcService(server, ClusterTokenService, invoke);
  health.addToGrpcServer(server);
  if (config.security.reflection) addGrpcReflection(server, servedFiles);
  return server;
}

/** A server of Health/Check and nothing else, with the same stream limits. */
function healthGrpcServer({ config, health }: ListenerParts): grpc.Server {
  const server = createGrpcServer(config.limits, { "grpc.max_receive_message_length": healthPortMaxMessageBytes });
  health.addCheckToGrpcServer(server);
  return server;
}

/** Serves `server` on `address`; closing lets grpc-js finish its calls, destroying ends its sessions. */
async function grpcListen(server: grpc.Server, address: string, options: GrpcListenOptions): Promise<Listener & { tlsServer?: TlsServer }> {
  let listener: Awaited<ReturnType<typeof listenGrpc>>;
  try {
    listener = await listenGrpc(server, address, options);
  } catch (err) {
    server.forceShutdown();
    throw err;
  }
  return {
    address: listener.address,
    ...(listener.tlsServer ? { tlsServer: listener.tlsServer } : {}),
    close: async () => {
      await Promise.all([listener.close(), new Promise<void>((resolve) => server.tryShutdown(() => resolve()))]);
    },
    destroy: () => {
      server.forceShutdown();
      listener.destroyConnections();
    },
  };
}

/**
 * The Connect handler (ClusterTokenService and health) on the HTTP listener; gRPC
 * sent there, over HTTP/1.1 or HTTP/2, is told to go to `grpcAddress`'s port.
 */
async function httpListen(
  { config, tls, invoke, health }: ListenerParts,
  grpcAddress: string,
): Promise<Listener & { tlsServer?: TlsServer }> {
  const { limits } = config;
  const { maxMessageBytes, handshakeTimeoutSeconds, headersTimeoutSeconds } = limits;
  const handler = createConnectHandler(ClusterTokenService, invoke, {
    readMaxBytes: maxMessageBytes,
    moreRoutes: (router) => health.addToConnectRouter(router),
  });
  const grpcElsewhere = new GrpcElsewhereAnswer(grpcAddress);
  const wrongPort = grpcElsewhere.http2Server(headersTimeoutSeconds * 1000);
  const listener = await listenHttp(withGrpcElsewhere(handler, grpcElsewhere), config.listen.http, {
    ...(tls ? { tls: listenerTls(tls) } : {}),
    handshakeTimeoutMs: handshakeTimeoutSeconds * 1000,
    headersTimeoutMs: headersTimeoutSeconds * 1000,
    maxHeaderBytes: limits.maxHeaderBytes,
    connections: guarded(limits, limits.maxConnections, handshakeTimeoutSeconds + headersTimeoutSeconds),
    http2Clients: (socket) => wrongPort.emit("connection", socket),
  });
  return {
    address: listener.address,
    ...(listener.tlsServer ? { tlsServer: listener.tlsServer } : {}),
    close: () => listener.close(),
    destroy: () => listener.destroyConnections(),
  };
}

async function metricsListen(address: string, { config, metrics, health }: ListenerParts): Promise<Listener> {
  const { limits } = config;
  const listener = await listenMetrics(address, metrics, health, guarded(limits, limits.maxProbeConnections, limits.headersTimeoutSeconds));
  // Its close ends every connection at once: a scrape or probe is never worth waiting for.
  return { address: listener.address, close: () => listener.close(), destroy: () => {} };
}
