import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import {
  constants,
  createServer as createHttp2Server,
  type Http2Server,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from "node:http2";
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { parseContentType } from "@connectrpc/connect/protocol-grpc";
import type { ErrorReason } from "../errors/error-reasons.js";
import { ServiceError } from "../errors/service-error.js";
import { toConnectError } from "./error-status.js";
import { TrailersOnlyAnswer } from "./grpc-answers.js";
import { requestIdFrom, requestIdHeader } from "./request-id.js";

/** What each body-less rejection of connect-es becomes: a reason, and what to send instead. */
const rejections: Record<number, { reason: ErrorReason; message: string }> = {
  405: {
    reason: "METHOD_NOT_ALLOWED",
    message: "use POST, or GET with ?encoding=json&message=<JSON> for methods without side effects",
  },
  415: {
    reason: "UNSUPPORTED_MEDIA_TYPE",
    message:
      "send content-type application/json (Connect JSON), application/proto or application/grpc-web+proto; " +
      "a GET needs encoding=json or encoding=proto",
  },
};

function jsonErrorBody(reason: ErrorReason, message: string): Uint8Array {
  return errorToJsonBytes(toConnectError(new ServiceError({ reason, message })), {});
}

/**
 * Gives connect-es's body-less rejections (405 for a wrong HTTP method, 415 for a
 * content type or GET encoding it cannot read) a Connect JSON error body saying what
 * to send, and an `x-request-id`, like every other answer of the service.
 */
export function withRejectionBodies(handler: UniversalHandler): UniversalHandler {
  const wrapped = async (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
    const res = await handler(req);
    const rejection = rejections[res.status];
    if (!rejection || res.body !== undefined) return res;
    const header = new Headers(res.header);
    header.set("content-type", "application/json");
    header.set(requestIdHeader, requestIdFrom(req.header.get(requestIdHeader)));
    const body = jsonErrorBody(rejection.reason, rejection.message);
    return {
      ...res,
      header,
      body: (async function* () {
        yield body;
      })(),
    };
  };
  return Object.assign(wrapped, handler);
}

/**
 * The answer for a path no route serves: 404 with a Connect JSON error naming the
 * services served, instead of connect-node's empty 404. `routePaths` is read on
 * each call, since routes are registered after the fallback is made.
 */
export function unknownPathFallback(routePaths: readonly string[]): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const services = [...new Set(routePaths.map((path) => path.split("/")[1]))].join(", ");
    const message = `no such method: call POST /<service>/<method>, where the services are ${services}`;
    const requestId = requestIdFrom([req.headers[requestIdHeader]].flat()[0]);
    res.writeHead(404, { "content-type": "application/json", [requestIdHeader]: requestId });
    res.end(jsonErrorBody("UNKNOWN_METHOD", message));
  };
}

/**
 * The answer to gRPC sent to the Connect port, which serves Connect, Connect GET and
 * gRPC-Web over HTTP/1.1 only: UNIMPLEMENTED `GRPC_ON_HTTP_PORT`, saying which port
 * serves gRPC, in gRPC's own form (a trailers-only response: HTTP 200 with
 * `grpc-status`, `grpc-message` and the ErrorInfo in `grpc-status-details-bin`, as
 * the gRPC ports give their own refusals: `grpc-answers.ts`), so that every gRPC
 * client shows the message, where connect-es alone answered 415 without a word about
 * gRPC. It answers requests with a gRPC content type over HTTP/1.1
 * ({@link withGrpcElsewhere}) and HTTP/2 clients handed to it by the HTTP listener
 * ({@link http2Server}): `grpcurl -plaintext host:8080 list`, or any gRPC client
 * pointed at the wrong port.
 */
export class GrpcElsewhereAnswer {
  private readonly answer: TrailersOnlyAnswer;

  /** `grpcAddress` is the gRPC listener's bound address; its port is what the message names. */
  constructor(grpcAddress: string) {
    const port = grpcAddress.slice(grpcAddress.lastIndexOf(":") + 1);
    const message = `this port serves Connect and gRPC-Web over HTTP/1.1; send gRPC to port ${port} (listen.grpc)`;
    this.answer = new TrailersOnlyAnswer(new ServiceError({ reason: "GRPC_ON_HTTP_PORT", message, metadata: { grpc_port: port } }));
  }

  /** The answer over HTTP/1.1 to a request with `requestHeaders`: gRPC's headers, the caller's `x-request-id`. */
  http1Headers(requestHeaders: IncomingHttpHeaders): OutgoingHttpHeaders {
    const { [constants.HTTP2_HEADER_STATUS]: _status, ...headers } = this.answer.headersFor(requestHeaders[requestIdHeader]);
    return headers;
  }

  /**
   * A server for the HTTP/2 connections the HTTP listener hands over (`emit("connection",
   * socket)`): every stream gets the answer and is reset with NO_ERROR, and the
   * session is closed once it has answered or after `idleTimeoutMs`, so that a
   * wrong-port client holds no more than a few streams and a megabyte for a few seconds.
   */
  http2Server(idleTimeoutMs: number): Http2Server {
    const server = createHttp2Server({
      maxSessionMemory: 1,
      settings: { maxConcurrentStreams: maxWrongPortStreams, maxHeaderListSize: 16 * 1024, enablePush: false },
    });
    server.on("session", (session) => {
      session.on("error", () => session.destroy());
      session.setTimeout(idleTimeoutMs, () => session.destroy());
    });
    server.on("stream", (stream, headers) => {
      stream.on("error", () => stream.destroy());
      this.answer.sendAndReset(stream, headers[requestIdHeader]);
      // Streams already open are answered; no new one is taken.
      stream.session?.close();
    });
    return server;
  }
}

/** The streams a wrong-port HTTP/2 connection may open at once: each is answered at once anyway. */
const maxWrongPortStreams = 8;

/**
 * Answers requests whose content type is gRPC's (`application/grpc`, `+proto`,
 * `+json`; gRPC-Web is served) with `answer` before they reach `handler`, and closes
 * the connection after, so that the rest of such a request is never read.
 */
export function withGrpcElsewhere(handler: RequestListener, answer: GrpcElsewhereAnswer): RequestListener {
  return (req, res) => {
    if (parseContentType(req.headers["content-type"] ?? null) === undefined) return handler(req, res);
    res.writeHead(200, { ...answer.http1Headers(req.headers), "content-length": "0", connection: "close" });
    res.end();
  };
}
