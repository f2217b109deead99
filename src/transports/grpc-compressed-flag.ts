import * as grpc from "@grpc/grpc-js";
// grpc-js has no public hook between reading a message frame and decompressing it; the
// per-call class that does it is exported from its server-interceptors module.
import { BaseServerInterceptingCall } from "@grpc/grpc-js/build/src/server-interceptors.js";

import { patchGrpcJs } from "./grpc-js-patch.js";

type Decompress = (this: unknown, message: Buffer, encoding: string) => Buffer | Promise<Buffer>;

/**
 * Makes the grpc-js server follow the gRPC compression spec for a message whose
 * Compressed-Flag is set while the call's `grpc-encoding` is `identity` (or absent):
 * it "MUST fail with INTERNAL status". grpc-js 1.14 treats the frame as uncompressed
 * instead and would serve it (grpc/grpc-node#2767). The fix wraps grpc-js's own
 * per-message decompression step, once per process, and fails loudly at start-up if
 * a grpc-js upgrade removes that step, rather than silently losing the check.
 */
export function enforceCompressedFlagRule(): void {
  patchGrpcJs<Decompress>(
    BaseServerInterceptingCall.prototype,
    "BaseServerInterceptingCall",
    "decompressMessage",
    "grpc-compressed-flag.ts",
    (original) =>
      function (this: unknown, message: Buffer, encoding: string) {
        if (encoding === "identity" && message[0] === 1) {
          return Promise.reject({
            code: grpc.status.INTERNAL,
            details: "the message's Compressed-Flag is set, but the call's grpc-encoding is identity",
          });
        }
        return original.call(this, message, encoding);
      },
  );
}
