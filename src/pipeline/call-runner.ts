import type { DescMethod, DescMethodUnary, DescService } from "@bufbuild/protobuf";
import type { CallContext, Outcome } from "../core/call-context.js";
import type { ServiceHandlers } from "../core/service-handlers.js";
import type { UnaryInvoker } from "../transports/unary-invoker.js";
import { BoundedCallContext } from "./bounded-call-context.js";
import { classifyFailure } from "./classify-failure.js";
import { type InvocationWith, Invocation } from "./invocation.js";
import { compose, type Link, type Terminal } from "./link.js";

/** How a call runner is composed. */
export interface CallRunnerOptions {
  /** The cross-cutting links, outermost first (metrics, access log, audit, authentication, …). */
  readonly links: readonly Link[];
  /** The longest any call may take, whatever deadline the caller set (`limits.maxCallSeconds`). */
  readonly maxCallMs: number;
}

type Handler = (request: unknown, context: CallContext) => Promise<Outcome<unknown>>;

/**
 * The last step of the pipeline: runs the RPC's handler in a {@link BoundedCallContext}
 * for the authenticated principal. It requires the principal, so composition
 * refuses a pipeline without authentication.
 */
function dispatch(service: DescService, handlers: Readonly<Record<string, Handler>>, maxCallMs: number): Terminal<"principal"> {
  const byMethod = new Map<DescMethod, Handler>();
  for (const method of service.methods) {
    const handler = handlers[method.localName];
    if (method.methodKind !== "unary" || !handler) throw new Error(`@private ${service.typeName}: no unary handler for ${method.name}`);
    byMethod.set(method, handler);
  }
  return {
    requires: ["principal"],
    step: async (invocation: InvocationWith<"principal">) => {
      const handler = byMethod.get(invocation.method);
      if (!handler) throw new Error(`@private ${invocation.method.name} is not a method of ${service.typeName}`);
      const context = new BoundedCallContext(invocation.call, invocation.principal, maxCallMs);
      try {
        return await handler(invocation.request, context);
      } finally {
        context.dispose();
      }
    },
  };
}

/**
 * Runs one RPC of `service` for any transport: a new {@link Invocation} through the
 * links, then the handler. It answers with the response, or rejects with the
 * {@link ClassifiedFailure} of whatever failed, which the transports put on the wire.
 */
export function createCallRunner<S extends DescService>(
  service: S,
  handlers: ServiceHandlers<S>,
  options: CallRunnerOptions,
): UnaryInvoker {
  const pipeline = compose(options.links, dispatch(service, handlers as unknown as Record<string, Handler>, options.maxCallMs));
  return (method, request, call) =>
    pipeline(new Invocation(method as DescMethodUnary, request, call)).then(
      ({ response }) => response as never,
      (err: unknown) => Promise.reject(classifyFailure(err)),
    );
}
