import type { DescMethodUnary } from "@bufbuild/protobuf";
import type { Principal } from "../auth/principal.js";
import type { Outcome, TransportCall } from "../core/call-context.js";
import { isServiceError } from "../errors/service-error.js";

/**
 * One call as it walks the pipeline: what the transport decoded and knew, and who
 * is calling once the authentication link has decided. One object per call, passed
 * down the whole chain: the principal is the only field written after it is built,
 * once, by authentication. Links outside it (the access log, the audit) read it
 * when the call returns or fails, so no link copies the call on the way in, or its
 * outcome on the way out, to carry the principal.
 */
export class Invocation {
  /** Set by the authentication link; undefined until then, and for a caller it refused. */
  principal: Principal | undefined = undefined;

  constructor(
    readonly method: DescMethodUnary,
    /** The decoded request, or an {@link UndecodableRequest}. */
    readonly request: unknown,
    readonly call: TransportCall,
  ) {}
}

/** The rest of the pipeline, from a link's point of view. */
export type Step = (invocation: Invocation) => Promise<Outcome<unknown>>;

/**
 * A cross-cutting concern, connect-es style: it gets the next step and returns its
 * own. The composition root lists the links in order, outermost first.
 */
export type Link = (next: Step) => Step;

/** Chains `links` (outermost first) in front of `last`. */
export function compose(links: readonly Link[], last: Step): Step {
  return links.reduceRight<Step>((next, link) => link(next), last);
}

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

/** "PermissionDenied" → "PERMISSION_DENIED": the gRPC code name of an outcome, used in every log and audit line. */
export function outcomeCode(error?: unknown): string {
  if (error === undefined) return "OK";
  if (!isServiceError(error)) return "INTERNAL";
  return error.code.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}
