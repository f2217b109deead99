import type { DescMethodUnary } from "@bufbuild/protobuf";
import type { Principal } from "../auth/principal.js";
import type { TransportCall } from "../core/call-context.js";
import type { TraceIds } from "../tracing/tracing.js";

/**
 * One call as it walks the pipeline: what the transport decoded and knew, and who
 * is calling once the authentication link has decided. One object per call, passed
 * down the whole chain: two fields are written after it is built, each once, by the
 * link that knows it: the principal by authentication, the trace ids by tracing.
 * Links outside authentication (the access log, the audit) read the principal when
 * the call returns or fails, so no link copies the call on the way in, or its
 * outcome on the way out, to carry it.
 */
export class Invocation {
  /** Set by the authentication link; undefined until then, and for a caller it refused. */
  principal: Principal | undefined = undefined;
  /** The ids of the call's span, set by the tracing link (the outermost) when tracing is on; undefined when it is off. */
  trace: TraceIds | undefined = undefined;

  constructor(
    readonly method: DescMethodUnary,
    /** The decoded request, or an {@link UndecodableRequest}. */
    readonly request: unknown,
    readonly call: TransportCall,
  ) {}
}

/** What a link may establish about an invocation, for the links inside it and the handler. */
export type Established = "principal";

/** An invocation once the links outside have established `E`: its fields are then set. */
export type InvocationWith<E extends Established> = Invocation & { readonly [K in E]: NonNullable<Invocation[K]> };

/**
 * Stands in for a request body that could not be decoded, so that a transport whose
 * library decodes before calling us (grpc-js) still answers INVALID_ARGUMENT through
 * the same path as every other error.
 */
export class UndecodableRequest {
  /**
   * @param cause the decoding failure, for local debugging only.
   * @param problem what is wrong, for the caller; it must echo nothing of the request.
   */
  constructor(
    readonly cause: unknown,
    readonly problem?: string,
  ) {}
}
