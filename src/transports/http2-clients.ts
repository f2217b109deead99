import type { Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { awaitHttp2Preface } from "./http2-preface.js";

/**
 * The ALPN protocols (RFC 7301's ids) of an HTTP/1.1 listener that also answers
 * HTTP/2-only clients, in the server's order of preference: HTTP/1.1 (or 1.0)
 * whenever the client offers it, so that browsers, curl and every Connect client keep
 * HTTP/1.1; `h2` only for a client that offers nothing else, which is a gRPC client
 * (grpc-go, grpc-js and grpcurl offer `h2` alone) that would otherwise fail its
 * handshake without a word, and whose connection is then routed as
 * {@link routeHttp2Clients} says. A client that offers ALPN but none of these is
 * refused (`no_application_protocol`), as RFC 7301 asks; one that offers none is
 * served as before.
 */
export const http1FirstAlpnProtocols = ["http/1.1", "http/1.0", "h2"];
/** The ALPN id of HTTP/2 over TLS. */
const alpnHttp2 = "h2";

/**
 * Routes the connections of an HTTP/1.1 server that speak HTTP/2 to `http2` instead
 * of Node's HTTP/1.1 parser, which would close them without a word: with TLS those
 * that chose `h2` by ALPN (see {@link http1FirstAlpnProtocols}); in plaintext those
 * that begin with the HTTP/2 client preface (prior knowledge, as gRPC clients speak
 * plaintext HTTP/2), read by the gRPC ports' own reader (`awaitHttp2Preface`) before
 * the parser sees the connection, and put back for whichever takes it. Everything
 * else is served as before.
 *
 * In plaintext the parser takes a connection only once its first bytes have told
 * HTTP/1.1 from HTTP/2 (one byte for HTTP/1.1; the whole preface, a few hundred at
 * most, for HTTP/2), so a connection that sends nothing decisive within
 * `decideWithinMs` is closed here, where the parser's own headers timeout would have
 * closed it; one that ends first is closed at once. Node's HTTP/1.1 server
 * attaches its parser in the first listener of `connection` (`secureConnection` for
 * HTTPS), which this takes over: call it right after the server is created.
 */
export function routeHttp2Clients(server: HttpServer | HttpsServer, http2: (socket: Socket) => void, decideWithinMs: number): void {
  const secure = "setSecureContext" in server;
  const event = secure ? "secureConnection" : "connection";
  const [http1] = server.listeners(event) as ((socket: Socket) => void)[];
  if (http1 === undefined) throw new Error(`@private an HTTP server without its ${event} listener`);
  server.removeListener(event, http1);
  server.prependListener(event, (socket: Socket) => {
    if (secure) return (socket as TLSSocket).alpnProtocol === alpnHttp2 ? http2(socket) : http1.call(server, socket);
    const timer = setTimeout(() => socket.destroy(), decideWithinMs);
    socket.once("close", () => clearTimeout(timer));
    awaitHttp2Preface(socket, (isHttp2) => {
      clearTimeout(timer);
      if (isHttp2) http2(socket);
      else if (socket.readableEnded) socket.destroy();
      else http1.call(server, socket);
    });
  });
}
