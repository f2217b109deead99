import type { Principal } from "../auth/principal.js";
import { type BoundedSignal, boundedSignal } from "../common/deadline.js";
import type { CallContext, TransportCall } from "../core/call-context.js";

/**
 * The core's view of one call, bounded by its deadline: the caller's, or the
 * service's ceiling (`limits.maxCallSeconds`) when that is sooner or the caller set
 * none. Its bounded signal (a controller, a timer and a listener) is built only when
 * the handler asks for it: everything that waits takes the signal, and a call
 * answered from memory never waits. A class, so that every call's context has one
 * shape (an object literal with a getter is built in V8's slow dictionary mode).
 */
export class BoundedCallContext implements CallContext {
  readonly transport: CallContext["transport"];
  readonly requestId: string;
  readonly deadline: number;
  private readonly ceilingMs: number | undefined;
  private bounded: BoundedSignal | undefined;

  /**
   * @param maxCallMs the service's ceiling; it bounds the call from now on.
   * Deadlines are wall-clock instants, as the transports read the caller's.
   */
  constructor(
    private readonly call: TransportCall,
    readonly principal: Principal,
    maxCallMs: number,
  ) {
    this.transport = call.transport;
    this.requestId = call.requestId;
    const ceiling = Date.now() + maxCallMs;
    if (call.deadline !== undefined && call.deadline < ceiling) {
      this.deadline = call.deadline;
      this.ceilingMs = undefined;
    } else {
      this.deadline = ceiling;
      this.ceilingMs = maxCallMs;
    }
  }

  get signal(): AbortSignal {
    this.bounded ??= boundedSignal(
      this.call.signal,
      this.deadline,
      this.ceilingMs === undefined ? undefined : `the service's maximum call time (${this.ceilingMs} ms) passed`,
    );
    return this.bounded.signal;
  }

  /** Releases the signal's timer and listener; the call is over. */
  dispose(): void {
    this.bounded?.dispose();
  }
}
