import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { patchGrpcJs } from "./grpc-js-patch.js";

/**
 * Sees every HTTP/2 stream a grpc-js server receives, once its headers have
 * arrived and before grpc-js does anything with it; `next()` hands the stream to
 * grpc-js, and a filter that answers the stream itself does not call it.
 */
export type GrpcStreamFilter = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, next: () => void) => void;

type StreamHandler = (this: grpc.Server, extraInterceptors: unknown, stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;

/** grpc-js's per-stream entry points: one with channelz on, one without (both `private` in its typings). */
const streamHandlerNames = ["_streamHandler", "_channelzHandler"] as const;

const filters = new WeakMap<grpc.Server, GrpcStreamFilter>();

/**
 * Puts `filter` in front of every stream `server` receives. grpc-js has no public
 * hook there: its interceptors are built only for a stream whose path names a
 * registered method and whose content-type is gRPC, and only once grpc-js has
 * set up a call for it, so streams it answers by itself (an unknown path, a wrong
 * content-type) and the cost of that set-up are out of their reach. The filter
 * wraps grpc-js's own per-stream handlers, once per process, for the servers given
 * here only. Like `grpc-compressed-flag.ts`, it fails loudly at start-up if a
 * grpc-js upgrade removes what it wraps, rather than silently unguarding streams.
 * Call it before the server's first port is bound or injector made: grpc-js binds
 * these handlers to each HTTP/2 server it creates.
 */
export function filterGrpcStreams(server: grpc.Server, filter: GrpcStreamFilter): void {
  for (const name of streamHandlerNames) {
    patchGrpcJs<StreamHandler>(
      grpc.Server.prototype,
      "Server",
      name,
      "grpc-stream-filter.ts",
      (original) =>
        function (this: grpc.Server, extraInterceptors, stream, headers) {
          const filterOf = filters.get(this);
          if (filterOf === undefined) return original.call(this, extraInterceptors, stream, headers);
          filterOf(stream, headers, () => original.call(this, extraInterceptors, stream, headers));
        },
    );
  }
  filters.set(server, filter);
}
