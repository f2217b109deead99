import { createServer, type RequestListener, type ServerOptions } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { Socket } from "node:net";
import type { SecureContextOptions } from "node:tls";
import { bindAddress } from "../listen-address.js";
import { type ConnectionGuardOptions, guardHttpConnections } from "./connection-guard.js";
import { http1FirstAlpnProtocols, routeHttp2Clients } from "./http2-clients.js";

/**
 * What a TLS listener is given, HTTPS here and gRPC alike (`GrpcListenOptions.tls`
 * has this shape): the secure context, and whether a client certificate is required
 * and verified (mTLS).
 */
export type ListenerTls = SecureContextOptions & { requireClientCert: boolean };

/** Options of {@link listenHttp}. */
export interface HttpListenOptions {
  /** The server's certificate and key, and `ca` with `requireClientCert` for mTLS; plaintext without. */
  tls?: ListenerTls;
  /** A connection that has not finished its TLS handshake by then is closed. */
  handshakeTimeoutMs: number;
  /** A request whose headers have not all arrived by then is answered 408 and its connection closed. */
  headersTimeoutMs: number;
  /** Request headers larger than this are answered 431 (`limits.maxHeaderBytes`). */
  maxHeaderBytes: number;
  /** The connection cap, and how long a connection may stay stalled before its first request's headers. */
  connections: ConnectionGuardOptions;
  /**
   * Takes the connections that speak HTTP/2 (gRPC clients at the wrong port), which
   * Node's HTTP/1.1 server would close without a word; see `http2-clients.ts`.
   */
  http2Clients?: (socket: Socket) => void;
}

/** A bound HTTP(S) listener: the counterpart of `GrpcListener`. */
export interface HttpListener {
  /** "host:port", with the real port when the address said 0. */
  readonly address: string;
  /** The HTTPS server, so that a new certificate can be set on it; undefined in plaintext. */
  readonly tlsServer: HttpsServer | undefined;
  /**
   * Stops accepting, closes idle keep-alive connections, and resolves once every
   * connection has ended: a request in flight finishes first.
   */
  close(): Promise<void>;
  /** Destroys every connection still open, handshakes included: the end of a grace period. */
  destroyConnections(): void;
}

/** A request that has not been received whole by then is answered 408. */
const requestTimeoutMs = 30_000;
/** An idle keep-alive HTTP/1.1 connection is closed after this. */
const keepAliveTimeoutMs = 5_000;

/**
 * Serves `handler` (the Connect handler) over HTTP/1.1, or HTTPS with `tls`, on
 * `address`, with bounded headers, requests, idle connections and handshakes, and a
 * connection guard: a cap that stalled connections cannot fill. Connections are
 * tracked from accept to close, so that the end of a grace period can destroy them,
 * handshakes included.
 */
export async function listenHttp(handler: RequestListener, address: string, options: HttpListenOptions): Promise<HttpListener> {
  const { tls, handshakeTimeoutMs, headersTimeoutMs, maxHeaderBytes } = options;
  const serverOptions: ServerOptions = {
    headersTimeout: headersTimeoutMs,
    // Check the headers and request timeouts often enough for them to bite when configured short (Node checks every 30 s by default).
    connectionsCheckingInterval: Math.min(1_000, headersTimeoutMs / 2),
    requestTimeout: Math.max(requestTimeoutMs, headersTimeoutMs),
    keepAliveTimeout: keepAliveTimeoutMs,
    maxHeaderSize: maxHeaderBytes,
  };
  let tlsServer: HttpsServer | undefined;
  if (tls) {
    const { requireClientCert, ...context } = tls;
    tlsServer = createHttpsServer(
      {
        ...serverOptions,
        ...context,
        minVersion: "TLSv1.2",
        handshakeTimeout: handshakeTimeoutMs,
        ...(options.http2Clients ? { ALPNProtocols: http1FirstAlpnProtocols } : {}),
        ...(requireClientCert ? { requestCert: true, rejectUnauthorized: true } : {}),
      },
      handler,
    );
  }
  const server = tlsServer ?? createServer(serverOptions, handler);
  // Before anything else listens for connections: Node's HTTP/1.1 parser is the first listener, which this takes over.
  if (options.http2Clients) routeHttp2Clients(server, options.http2Clients, headersTimeoutMs);
  const connections = guardHttpConnections(server, options.connections);
  const bound = await bindAddress(server, address, "HTTP");
  return {
    address: bound,
    tlsServer,
    destroyConnections: () => connections.destroyAll(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
