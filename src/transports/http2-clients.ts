import type { Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { checkHttp2Preface } from "./http2-preface.js";

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
 * plaintext HTTP/2), read before the parser sees the connection and put back for
 * whichever takes it. Everything else is served as before.
 *
 * In plaintext the parser takes a connection only once its first bytes have told
 * HTTP/1.1 from HTTP/2 (a byte or two for HTTP/1.1; the whole preface, a few hundred
 * at most, for HTTP/2), so a connection that sends nothing for `decideWithinMs` is
 * closed here, where the parser's own headers timeout would have closed it. Node's
 * HTTP/1.1 server attaches its parser in the first listener of `connection`
 * (`secureConnection` for HTTPS), which this takes over: call it right after the
 * server is created.
 */
export function routeHttp2Clients(server: HttpServer | HttpsServer, http2: (socket: Socket) => void, decideWithinMs: number): void {
  const secure = "setSecureContext" in server;
  const event = secure ? "secureConnection" : "connection";
  const [http1] = server.listeners(event) as ((socket: Socket) => void)[];
  if (http1 === undefined) throw new Error(`@private an HTTP server without its ${event} listener`);
  server.removeListener(event, http1);
  server.prependListener(event, (socket: Socket) => {
    if (secure) return (socket as TLSSocket).alpnProtocol === alpnHttp2 ? http2(socket) : http1.call(server, socket);
    awaitFirstBytes(socket, decideWithinMs, (isHttp2) => (isHttp2 ? http2(socket) : http1.call(server, socket)));
  });
}

/**
 * Reads `socket` until its first bytes are a whole HTTP/2 client preface or cannot be one,
 * puts them back, and calls `decided` once; destroys the socket when it sends
 * nothing decisive within `timeoutMs`, and decides nothing for a socket that closes.
 */
function awaitFirstBytes(socket: Socket, timeoutMs: number, decided: (isHttp2: boolean) => void): void {
  let received: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  const stop = () => {
    clearTimeout(timer);
    socket.removeListener("readable", onReadable);
    socket.removeListener("error", onError);
    socket.removeListener("close", stop);
  };
  // Until the parser or a session takes the socket, a reset must not become an uncaught error.
  const onError = () => socket.destroy();
  const onReadable = () => {
    const chunks = [received];
    for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) chunks.push(chunk);
    received = Buffer.concat(chunks);
    const preface = checkHttp2Preface(received);
    if (preface === "incomplete") return;
    stop();
    socket.unshift(received);
    decided(preface === "complete");
  };
  socket.on("readable", onReadable);
  socket.on("error", onError);
  socket.once("close", stop);
}
