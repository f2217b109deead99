import { createServer, type Server as NetServer, type Socket } from "node:net";
import { createServer as createTlsServer, type SecureContextOptions, type TLSSocket } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import type { ServiceConfig } from "../config/config-schema.js";
import { bindAddress } from "../listen-address.js";
import { type ConnectionGuard, type ConnectionGuardOptions, guardConnections } from "./connection-guard.js";
import { awaitHttp2Preface } from "./http2-preface.js";
import { filterGrpcStreams } from "./grpc-stream-filter.js";
import { GrpcStreamGuard } from "./grpc-stream-guard.js";
import { answerMalformedTimeouts } from "./grpc-timeout-header.js";

/** Options of {@link listenGrpc}. */
export interface GrpcListenOptions {
  /** The server's certificate and key, and `ca` to require client certificates (mTLS); plaintext without. */
  tls?: SecureContextOptions & { requireClientCert: boolean };
  /**
   * The connection cap, and how long a connection may take, from accept, to finish
   * its TLS handshake and send its HTTP/2 client preface. grpc-js has neither.
   */
  connections: ConnectionGuardOptions;
}

/** A bound gRPC listener. */
export interface GrpcListener {
  /** "host:port", with the real port when the address said 0. */
  readonly address: string;
  /** The TLS server, so that a new certificate can be set on it; undefined in plaintext. */
  readonly tlsServer: ReturnType<typeof createTlsServer> | undefined;
  readonly connections: ConnectionGuard;
  /** The guard of the server's streams. */
  readonly streams: GrpcStreamGuard;
  /**
   * Stops accepting connections and resolves once every connection has ended;
   * grpc-js's own shutdown (`tryShutdown`, `forceShutdown`) ends the sessions.
   */
  close(): Promise<void>;
  /** Destroys every connection still open, handshakes included: the end of a grace period. */
  destroyConnections(): void;
}

const streamGuards = new WeakMap<grpc.Server, GrpcStreamGuard>();

/**
 * A grpc-js server whose streams are bounded before authentication, from the
 * config's limits: at most `maxStreamsPerConnection` per connection (HTTP/2
 * SETTINGS_MAX_CONCURRENT_STREAMS), and a {@link GrpcStreamGuard} for the rest,
 * whose interceptor comes first. `options` are grpc-js's own; channelz is off (its
 * per-call bookkeeping would be paid for nothing). {@link listenGrpc} puts the
 * guard in front of every stream.
 */
export function createGrpcServer(limits: ServiceConfig["limits"], options: grpc.ServerOptions = {}): grpc.Server {
  answerMalformedTimeouts();
  const streams = new GrpcStreamGuard({
    maxCallsInFlight: limits.maxCallsInFlight,
    firstMessageTimeoutMs: limits.firstMessageTimeoutSeconds * 1000,
    longLivedMs: limits.maxCallSeconds * 1000,
    maxHeaderBytes: limits.maxHeaderBytes,
    maxStreamsPerConnection: limits.maxStreamsPerConnection,
  });
  const server = new grpc.Server({
    "grpc.enable_channelz": 0,
    "grpc.max_concurrent_streams": limits.maxStreamsPerConnection,
    "grpc.max_connection_idle_ms": limits.idleTimeoutSeconds * 1000,
    ...options,
    interceptors: [streams.interceptor, ...(options.interceptors ?? [])],
  });
  streamGuards.set(server, streams);
  return server;
}

/**
 * Accepts the gRPC listener's connections itself and hands them to grpc-js through
 * its connection injector, so that the listener has what grpc-js lacks: a
 * {@link ConnectionGuard} (a deadline for the TLS handshake and the HTTP/2 preface,
 * and a cap that stalled connections cannot fill). TLS is terminated here (ALPN
 * `h2`), and the verified TLS socket is injected into a plaintext HTTP/2 server,
 * where grpc-js still reads the peer certificate from it. A connection reaches
 * grpc-js only once its whole client preface has arrived. `server` must come from
 * {@link createGrpcServer}.
 */
export async function listenGrpc(server: grpc.Server, address: string, options: GrpcListenOptions): Promise<GrpcListener> {
  const streams = streamGuards.get(server);
  if (streams === undefined) throw new Error("@private listenGrpc needs a server made by createGrpcServer");
  const { tls } = options;
  let listener: NetServer;
  let tlsServer: ReturnType<typeof createTlsServer> | undefined;
  if (tls) {
    const { requireClientCert, ...context } = tls;
    // No handshake timeout of its own: the connection guard's deadline covers the handshake and the preface.
    tlsServer = createTlsServer({
      ...context,
      ALPNProtocols: ["h2"],
      minVersion: "TLSv1.2",
      ...(requireClientCert ? { requestCert: true, rejectUnauthorized: true } : {}),
    });
    tlsServer.on("secureConnection", (socket: TLSSocket) => {
      if (socket.alpnProtocol !== "h2") return void socket.destroy();
      injectOnPreface(socket);
    });
    // A failed handshake: Node leaves closing the socket to us.
    tlsServer.on("tlsClientError", (_err, socket) => socket.destroy());
    listener = tlsServer;
  } else {
    listener = createServer((socket) => injectOnPreface(socket));
  }
  // grpc-js writes a call's response headers, then its message and trailers, as separate small writes; with
  // Nagle's algorithm the second waits for the client's ACK of the first. Off, as gRPC servers have it.
  listener.on("connection", (socket: Socket) => socket.setNoDelay(true));
  const connections = guardConnections(listener, options.connections);
  // Installed before the injector exists: grpc-js binds its stream handlers to each HTTP/2 server it makes.
  filterGrpcStreams(server, (stream, headers, next) => {
    if (stream.session) stream.once("close", connections.callStarted(stream.session.socket));
    streams.filter(stream, headers, next);
  });
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  function injectOnPreface(socket: Socket): void {
    awaitHttp2Preface(socket, (complete) => {
      if (!complete) return void socket.destroy();
      connections.proven(socket);
      injector.injectConnection(socket);
    });
  }
  const bound = await bindAddress(listener, address, "gRPC");
  return {
    address: bound,
    tlsServer,
    connections,
    streams,
    destroyConnections: () => connections.destroyAll(),
    close: () =>
      new Promise<void>((resolve) => {
        listener.close(() => resolve());
      }),
  };
}
