import { TLSSocket } from "node:tls";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, createContextValues, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { PresentedCredentials } from "../auth/authenticator.js";
import type { RequestHeaders, TransportCall } from "../core/call-context.js";
import { unknownPathFallback, withRejectionBodies } from "./connect-rejections.js";
import { toConnectError } from "./error-status.js";
import { guardDecoding, malformedRequest } from "./request-guard.js";
import { callSignal } from "../common/deadline.js";
import { requestIdFrom, requestIdHeader } from "./request-id.js";
import { UndecodableRequest } from "../pipeline/invocation.js";
import type { UnaryInvoker } from "./unary-invoker.js";

/** Options of {@link createConnectHandler}. */
export interface ConnectHandlerOptions {
  /** The largest request body accepted, in bytes; larger ones get RESOURCE_EXHAUSTED. */
  readMaxBytes: number;
  /** Further services on the same listener, such as health checks. */
  moreRoutes?: (router: ConnectRouter) => void;
}

/** The verified client certificate of the request's TLS connection, if any. */
const peerCertificateKey = createContextKey<PresentedCredentials["peerCertificate"]>(undefined, {
  description: "cluster-token: verified client certificate",
});

function verifiedPeerCertificate(req: { socket: unknown }): PresentedCredentials["peerCertificate"] {
  const socket = req.socket;
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  const certificate = socket.getPeerCertificate();
  return certificate && Object.keys(certificate).length > 0 ? certificate : undefined;
}

/**
 * The connect-es implementation of `service`: every method calls `invoke`. Served by
 * {@link createConnectHandler}, and by connect-es's in-memory router transport in tests.
 */
export function connectImplementation(service: DescService, invoke: UnaryInvoker) {
  return Object.fromEntries(
    service.methods.map((method) => [
      method.localName,
      (request: never, handlerContext: HandlerContext) => {
        const malformed = handlerContext.values.get(malformedRequest);
        return invoke(
          method as never,
          malformed === undefined ? request : new UndecodableRequest(malformed.cause, malformed.problem),
          connectTransportCall(handlerContext),
        ).catch(rejectOnTheWire);
      },
    ]),
  );
}

/**
 * A Node HTTP request handler serving the unary methods of `service` through
 * `invoke` with the Connect protocol (JSON and binary POST, and GET for
 * NO_SIDE_EFFECTS methods) and gRPC-Web. Plain gRPC is left to the grpc-js listener.
 */
export function createConnectHandler(service: DescService, invoke: UnaryInvoker, { readMaxBytes, moreRoutes }: ConnectHandlerOptions) {
  const implementation = connectImplementation(service, invoke);
  const paths: string[] = [];
  return connectNodeAdapter({
    routes: (router) => {
      router.service(service, implementation as never);
      router.handlers.forEach((handler, i) => {
        router.handlers[i] = guardDecoding(handler, readMaxBytes);
      });
      moreRoutes?.(router);
      router.handlers.forEach((handler, i) => {
        router.handlers[i] = withRejectionBodies(handler);
        paths.push(handler.requestPath);
      });
    },
    fallback: unknownPathFallback(paths) as NonNullable<Parameters<typeof connectNodeAdapter>[0]["fallback"]>,
    contextValues: (req) => createContextValues().set(peerCertificateKey, verifiedPeerCertificate(req)),
    grpc: false,
    grpcWeb: true,
    connect: true,
    readMaxBytes,
    // No compression: requests are tiny protobuf messages (64 KiB at most), so compression buys nothing and
    // only adds a decompression surface. A compressed request is answered with Connect's standard error.
    acceptCompression: [],
    // Strict JSON: an unknown field or enum name is INVALID_ARGUMENT rather than silently dropped, so a
    // client asking for a mode this server lacks never gets a different kind of credential than it asked for.
    jsonOptions: { ignoreUnknownFields: false },
  });
}

/** A failure of the pipeline as the Connect error connect-es sends. */
function rejectOnTheWire(failure: unknown): never {
  throw toConnectError(failure);
}

function connectTransportCall(handlerContext: HandlerContext): TransportCall {
  const requestId = requestIdFrom(handlerContext.requestHeader.get(requestIdHeader));
  handlerContext.responseHeader.set(requestIdHeader, requestId);
  // Answers carry credentials or caller-specific listings: no proxy or browser may store them, GET included.
  handlerContext.responseHeader.set("cache-control", "no-store");
  const timeoutMs = handlerContext.timeoutMs();
  return new ConnectCall(handlerContext, requestId, timeoutMs !== undefined ? Date.now() + timeoutMs : undefined);
}

const isDeadline = (reason: unknown) => reason instanceof ConnectError && reason.code === Code.DeadlineExceeded;

/**
 * One Connect call as the pipeline sees it: a class, so that every call's object has
 * one shape (see `GrpcCall`). Its signal is built on first use: a call answered from
 * memory never needs one.
 */
class ConnectCall implements TransportCall {
  readonly transport = "connect";
  readonly headers: RequestHeaders;
  private callSignal: AbortSignal | undefined;

  constructor(
    private readonly handlerContext: HandlerContext,
    readonly requestId: string,
    readonly deadline: number | undefined,
  ) {
    this.headers = new ConnectHeaders(handlerContext.requestHeader);
  }

  /** The verified client certificate of the request's connection, which the adapter put in the context values. */
  get peerCertificate(): PresentedCredentials["peerCertificate"] {
    return this.handlerContext.values.get(peerCertificateKey);
  }

  get signal(): AbortSignal {
    this.callSignal ??= callSignal(this.handlerContext.signal, isDeadline);
    return this.callSignal;
  }
}

/** The Fetch API's request headers as the pipeline's read-only view; `Headers` joins repeated values with ", " itself. */
class ConnectHeaders implements RequestHeaders {
  constructor(private readonly headers: Headers) {}

  get(name: string): string | undefined {
    return this.headers.get(name) ?? undefined;
  }
}
