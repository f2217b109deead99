import { createServer, type Server as NetServer, type Socket } from "node:net";
import { createServer as createTlsServer, type SecureContextOptions, type TLSSocket } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { bindAddress } from "../listen-address.js";
import { trackConnections } from "./connection-tracker.js";

/** Options of {@link listenGrpc}. */
export interface GrpcListenOptions {
  /** The server's certificate and key, and `ca` to require client certificates (mTLS); plaintext without. */
  tls?: SecureContextOptions & { requireClientCert: boolean };
  /**
   * A connection that has not finished its TLS handshake by then (in plaintext: sent
   * its first bytes) is closed. grpc-js has no such limit of its own.
   */
  handshakeTimeoutMs: number;
  /** The most connections held at once; further ones are closed on arrival. */
  maxConnections: number;
}

/** A bound gRPC listener. */
export interface GrpcListener {
  /** "host:port", with the real port when the address said 0. */
  readonly address: string;
  /** The TLS server, so that a new certificate can be set on it; undefined in plaintext. */
  readonly tlsServer: ReturnType<typeof createTlsServer> | undefined;
  /**
   * Stops accepting connections and resolves once every connection has ended;
   * grpc-js's own shutdown (`tryShutdown`, `forceShutdown`) ends the sessions.
   */
  close(): Promise<void>;
  /** Destroys every connection still open, handshakes included: the end of a grace period. */
  destroyConnections(): void;
}

/**
 * Accepts the gRPC listener's connections itself and hands them to grpc-js through
 * its connection injector, so that the listener has what grpc-js lacks: a bounded
 * TLS handshake and a connection cap. TLS is terminated here (ALPN `h2`), and the
 * verified TLS socket is injected into a plaintext HTTP/2 server, where grpc-js still
 * reads the peer certificate from it.
 */
export async function listenGrpc(server: grpc.Server, address: string, options: GrpcListenOptions): Promise<GrpcListener> {
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const { tls, handshakeTimeoutMs, maxConnections } = options;
  let listener: NetServer;
  let tlsServer: ReturnType<typeof createTlsServer> | undefined;
  if (tls) {
    const { requireClientCert, ...context } = tls;
    tlsServer = createTlsServer({
      ...context,
      ALPNProtocols: ["h2"],
      minVersion: "TLSv1.2",
      handshakeTimeout: handshakeTimeoutMs,
      ...(requireClientCert ? { requestCert: true, rejectUnauthorized: true } : {}),
    });
    tlsServer.on("secureConnection", (socket: TLSSocket) => {
      if (socket.alpnProtocol !== "h2") {
        socket.destroy();
        return;
      }
      injector.injectConnection(socket);
    });
    // A failed or timed-out handshake (ERR_TLS_HANDSHAKE_TIMEOUT): Node leaves closing the socket to us.
    tlsServer.on("tlsClientError", (_err, socket) => socket.destroy());
    listener = tlsServer;
  } else {
    listener = createServer((socket) => injectOnFirstBytes(socket, injector, handshakeTimeoutMs));
  }
  listener.maxConnections = maxConnections;
  // grpc-js writes a call's response headers, then its message and trailers, as separate small writes; with
  // Nagle's algorithm the second waits for the client's ACK of the first. Off, as gRPC servers have it.
  listener.on("connection", (socket: Socket) => socket.setNoDelay(true));
  const connections = trackConnections(listener);
  const bound = await bindAddress(listener, address, "gRPC");
  return {
    address: bound,
    tlsServer,
    destroyConnections: () => connections.destroyAll(),
    close: () =>
      new Promise<void>((resolve) => {
        listener.close(() => resolve());
      }),
  };
}

/**
 * A plaintext connection is handed to grpc-js once it has sent something, and closed
 * if it stays silent past the timeout. The bytes read stay in the socket's buffer,
 * where Node's HTTP/2 session picks them up.
 */
function injectOnFirstBytes(socket: Socket, injector: { injectConnection(socket: Socket): void }, timeoutMs: number): void {
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  socket.once("error", () => clearTimeout(timer));
  socket.once("close", () => clearTimeout(timer));
  socket.once("readable", () => {
    clearTimeout(timer);
    if (!socket.destroyed) injector.injectConnection(socket);
  });
}
