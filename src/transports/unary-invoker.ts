import type { DescMessage, DescMethodUnary, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import { type BoundedSignal, boundedSignal } from "../common/deadline.js";
import { type CallContext, type Outcome, type TransportCall, unwrapFailure } from "../core/call-context.js";
import type { ServiceHandlers } from "../core/service-handlers.js";
import { compose, Invocation, type Link, type Step, type UndecodableRequest } from "../pipeline/invocation.js";
import { toConnectError } from "./error-status.js";

/**
 * Calls one RPC of the core for any transport, through the call pipeline, and turns
 * a failure into the `ConnectError` both transports send. Transports only translate
 * their wire objects to and from this.
 */
export type UnaryInvoker = <I extends DescMessage, O extends DescMessage>(
  method: DescMethodUnary<I, O>,
  request: MessageShape<I> | UndecodableRequest,
  call: TransportCall,
) => Promise<MessageInitShape<O>>;

/** How the invoker is composed. */
export interface InvokerOptions {
  /** The cross-cutting links, outermost first (access log, audit, authentication, …). */
  links: readonly Link[];
  /** The longest any call may take, whatever deadline the caller set (`limits.maxCallSeconds`). */
  maxCallMs: number;
}

/**
 * The last step of the pipeline: bounds the call by its deadline (the caller's, or
 * `maxCallMs` when that is sooner or there is none), builds the core's
 * {@link CallContext} and runs the RPC's handler.
 */
function dispatch(
  handlers: Record<string, (request: unknown, context: CallContext) => Promise<Outcome<unknown>>>,
  maxCallMs: number,
): Step {
  return async ({ method, request, call, principal }) => {
    const handler = handlers[method.localName];
    if (!handler || !principal) throw new Error(`@private no handler or principal for ${method.name}`);
    const serviceDeadline = Date.now() + maxCallMs;
    const deadline = call.deadline !== undefined && call.deadline < serviceDeadline ? call.deadline : serviceDeadline;
    const context = new BoundedCallContext(call, principal, deadline, deadline === serviceDeadline ? maxCallMs : undefined);
    try {
      return await handler(request, context);
    } finally {
      context.dispose();
    }
  };
}

/**
 * The core's view of one call. Its bounded signal (a controller, a timer and a
 * listener) is built only when the handler asks for it: everything that waits takes
 * the signal, and a call answered from memory never waits. A class, so that every
 * call's context has one shape (an object literal with a getter is built in V8's
 * slow dictionary mode).
 */
class BoundedCallContext implements CallContext {
  readonly transport: CallContext["transport"];
  readonly requestId: string;
  private bounded: BoundedSignal | undefined;

  /** @param serviceCeilingMs the service's maximum call time, when that (not the caller) set the deadline. */
  constructor(
    private readonly call: TransportCall,
    readonly principal: CallContext["principal"],
    readonly deadline: number,
    private readonly serviceCeilingMs: number | undefined,
  ) {
    this.transport = call.transport;
    this.requestId = call.requestId;
  }

  get signal(): AbortSignal {
    this.bounded ??= boundedSignal(
      this.call.signal,
      this.deadline,
      this.serviceCeilingMs === undefined ? undefined : `the service's maximum call time (${this.serviceCeilingMs} ms) passed`,
    );
    return this.bounded.signal;
  }

  dispose(): void {
    this.bounded?.dispose();
  }
}

/** Creates the {@link UnaryInvoker} of `handlers`, the implementation of `service`. */
export function createUnaryInvoker<S extends DescService & { method: Record<string, DescMethodUnary> }>(
  _service: S,
  handlers: ServiceHandlers<S>,
  { links, maxCallMs }: InvokerOptions,
): UnaryInvoker {
  const table = handlers as unknown as Record<string, (request: unknown, context: CallContext) => Promise<Outcome<unknown>>>;
  const pipeline = compose(links, dispatch(table, maxCallMs));
  return async (method, request, call) => {
    try {
      const { response } = await pipeline(new Invocation(method as DescMethodUnary, request, call));
      return response as never;
    } catch (err) {
      const connectError: ConnectError = toConnectError(unwrapFailure(err).error);
      throw connectError;
    }
  };
}
