import { constants, type OutgoingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import type { ConnectError } from "@connectrpc/connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import * as grpc from "@grpc/grpc-js";
import type { ServiceError } from "../errors/service-error.js";
import { toConnectError } from "./error-status.js";
import { requestIdFrom, requestIdHeader } from "./request-id.js";

/**
 * The grpc-js form of an error: its code and message, and the `google.rpc.Status`
 * with the ErrorInfo in `grpc-status-details-bin`, encoded by Connect's own gRPC
 * protocol code so that both transports carry identical details.
 */
export function grpcStatus(err: ConnectError): grpc.StatusObject {
  const metadata = new grpc.Metadata();
  const details = setTrailerStatus(new Headers(), err).get("grpc-status-details-bin");
  if (details) metadata.set("grpc-status-details-bin", Buffer.from(details, "base64"));
  return { code: err.code as number as grpc.status, details: err.rawMessage, metadata };
}

/** The caller's `x-request-id` when it sent a plausible one, else a new one. */
function requestIdOf(sent: unknown): string {
  return requestIdFrom(typeof sent === "string" ? sent : undefined);
}

/**
 * The status with which grpc-js answers `error` for the service before the call
 * reaches it (a malformed header): the same code, message and ErrorInfo as any
 * other answer, and the caller's `x-request-id`.
 */
export function grpcErrorStatus(error: ServiceError, requestMetadata: grpc.Metadata): grpc.StatusObject {
  const status = grpcStatus(toConnectError(error));
  status.metadata.set(requestIdHeader, requestIdOf(requestMetadata.get(requestIdHeader)[0]));
  return status;
}

/**
 * One answer for streams refused before grpc-js sets up a call (a limit): a
 * trailers-only response (gRPC over HTTP/2: one HEADERS frame that ends the stream)
 * with the code, message and ErrorInfo of `error`, built once, since a flood sends
 * it thousands of times a second; only each stream's `x-request-id` differs.
 */
export class TrailersOnlyAnswer {
  private readonly headers: OutgoingHttpHeaders;

  constructor(error: ServiceError) {
    const status = grpcStatus(toConnectError(error));
    this.headers = {
      [constants.HTTP2_HEADER_STATUS]: constants.HTTP_STATUS_OK,
      [constants.HTTP2_HEADER_CONTENT_TYPE]: "application/grpc+proto",
      "grpc-status": String(status.code),
      // grpc-message is percent-encoded (gRPC over HTTP/2), as grpc-js encodes it.
      "grpc-message": encodeURI(status.details),
      ...status.metadata.toHttp2Headers(),
    };
  }

  /** The answer's headers (HTTP/2's `:status` among them) for a request that sent `requestId` as its `x-request-id`. */
  headersFor(requestId: string | string[] | undefined): OutgoingHttpHeaders {
    return { ...this.headers, [requestIdHeader]: requestIdOf(requestId) };
  }

  /**
   * Answers `stream`, then resets it with NO_ERROR, which RFC 9113 §8.1 defines for
   * "the response is complete, stop sending the request": nothing more of it is
   * read or kept. A stream whose response has begun cannot take a status any more
   * and is reset with CANCEL, which gRPC clients report as CANCELLED.
   *
   * The reset waits for the next turn of the event loop: on Node 22 and 26, a reset
   * submitted in the same turn as the answer goes out without it (nghttp2 drops the
   * stream's queued HEADERS), and the client sees a reset without a status: grpc-js
   * reports INTERNAL "Call ended without gRPC status". By the next turn the session
   * has written the answer.
   */
  sendAndReset(stream: ServerHttp2Stream, requestId: string | string[] | undefined): void {
    if (stream.destroyed || stream.closed) return;
    if (stream.headersSent) {
      resetStream(stream, constants.NGHTTP2_CANCEL);
    } else {
      stream.respond(this.headersFor(requestId), { endStream: true });
      setImmediate(closeAnswered, stream);
    }
  }
}

/** Resets an answered stream with NO_ERROR, unless both sides have ended it meanwhile. */
function closeAnswered(stream: ServerHttp2Stream): void {
  if (!stream.destroyed && !stream.closed) stream.close(constants.NGHTTP2_NO_ERROR);
}

const ignore = () => {};

/**
 * Resets `stream` with `code`. A reset with an error code makes Node emit `error`
 * on the stream, which would end the process were nobody listening: grpc-js
 * listens only to the streams it has been handed.
 */
export function resetStream(stream: ServerHttp2Stream, code: number): void {
  if (code !== constants.NGHTTP2_NO_ERROR) stream.on("error", ignore);
  stream.close(code);
}
