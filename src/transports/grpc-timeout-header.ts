import type * as grpc from "@grpc/grpc-js";
// grpc-js parses `grpc-timeout` in the constructor of its per-call class, exported from its server-interceptors module.
import { BaseServerInterceptingCall } from "@grpc/grpc-js/build/src/server-interceptors.js";
import { ServiceError } from "../errors/service-error.js";
import { grpcErrorStatus } from "./grpc-answers.js";
import { patchGrpcJs } from "./grpc-js-patch.js";

/** gRPC over HTTP/2: `grpc-timeout` is TimeoutValue (1 to 8 ASCII digits) and TimeoutUnit (one of H M S m u n). */
const timeoutHeaderSyntax = /^(\d{1,8})([HMSmun])$/;
const unitMs: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000_001 };
/**
 * grpc-js turns the timeout into milliseconds with `| 0`, so anything past 2^31 ms
 * (about 24 days) wraps, often to a negative timeout that expires at once. Longer
 * timeouts are handed to it as this one (about 28 hours), still far beyond
 * `limits.maxCallSeconds`, which bounds every call anyway.
 */
const longestTimeout = "99999999m";
const longestTimeoutMs = 99_999_999;

type HandleTimeoutHeader = (this: grpc.ServerInterceptingCallInterface, value: string) => void;

interface CallInternals {
  /** The request's metadata, set once the constructor has run. */
  readonly metadata: grpc.Metadata;
}

/**
 * Makes a malformed `grpc-timeout` a client error: INVALID_ARGUMENT with reason
 * `MALFORMED_REQUEST` and the caller's `x-request-id`, on every service of every
 * gRPC port, where grpc-js 1.14 answers INTERNAL and echoes the header back. The
 * check is the gRPC spec's grammar, a little stricter than grpc-js's unanchored
 * pattern (which took `12Sxyz` for 12 seconds). A valid timeout too long for
 * grpc-js's arithmetic is handed to it as {@link longestTimeout}. Like
 * `grpc-compressed-flag.ts`, it wraps grpc-js's own step, once per process, and
 * fails loudly at start-up if a grpc-js upgrade removes it.
 */
export function answerMalformedTimeouts(): void {
  patchGrpcJs<HandleTimeoutHeader>(
    BaseServerInterceptingCall.prototype,
    "BaseServerInterceptingCall",
    "handleTimeoutHeader",
    "grpc-timeout-header.ts",
    (original) =>
      function (this: grpc.ServerInterceptingCallInterface, value: string) {
        const [, digits, unit] = timeoutHeaderSyntax.exec(String(value)) ?? [];
        if (digits !== undefined && unit !== undefined) {
          const ms = Number(digits) * (unitMs[unit] ?? 0);
          return original.call(this, ms > longestTimeoutMs ? longestTimeout : String(value));
        }
        const error = new ServiceError({
          reason: "MALFORMED_REQUEST",
          message: "the grpc-timeout header is not a timeout: send 1 to 8 digits and a unit, H, M, S, m, u or n (e.g. 1500m)",
        });
        // As grpc-js does here: the call's constructor, still running, must finish before it can answer.
        process.nextTick(() => this.sendStatus(grpcErrorStatus(error, (this as unknown as CallInternals).metadata)));
      },
  );
}
