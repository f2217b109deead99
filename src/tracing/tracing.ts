import type { DescMethodUnary } from "@bufbuild/protobuf";
import type { AuditFacts, TransportCall } from "../core/call-context.js";
import type { ClassifiedFailure } from "../pipeline/classify-failure.js";

/**
 * The seam between the service and OpenTelemetry. The service and its links see only
 * this interface; `otel-tracing.ts` implements it and is loaded only when tracing is
 * on (`start-tracing.ts`), so that with tracing off not one OpenTelemetry module is
 * loaded and the call pipeline has no tracing link at all.
 */
export interface Tracing {
  /**
   * Starts the server span of one call, as a child of the caller's W3C trace context
   * (`traceparent`, `tracestate`) when the request carries a valid one, else as the root
   * of a new trace.
   */
  startCall(method: DescMethodUnary, call: TransportCall): CallSpan;
  /**
   * Records a finished child of the span current in this async context (the call's):
   * an upstream call or the audit commit, which began at `startedAt` (`performance.now()`)
   * and ends now. Outside any call's span it records nothing.
   */
  recordChild(child: ChildSpan): void;
  /** Sets an attribute on the span current in this async context, if any. */
  annotate(key: string, value: string | number | boolean): void;
  /**
   * Exports the spans still queued and stops: at the end of the process, after the
   * last call. Resolves within `timeoutMs` whatever the collector does; spans not
   * exported by then are dropped.
   */
  shutdown(timeoutMs: number): Promise<void>;
}

/** The ids of a call's span, lower-case hex as W3C trace context writes them: what log and audit lines carry. */
export interface TraceIds {
  /** 32 hex digits. */
  readonly traceId: string;
  /** 16 hex digits. */
  readonly spanId: string;
}

/** The span of one call, while it runs. */
export interface CallSpan extends TraceIds {
  /**
   * Runs `work` with this span current, so that the children recorded while it runs
   * (its upstream calls, its audit commit) are this span's, whichever other calls are
   * running at the same time.
   */
  within<T>(work: () => Promise<T>): Promise<T>;
  /** Ends the span with the call's outcome: `failure` when it failed, the facts the handler learned either way. */
  end(result: CallResult): void;
}

/** How a call ended, as the span records it. */
export interface CallResult {
  /** The authenticated caller's name; absent when authentication refused it or never ran. */
  readonly principal: string | undefined;
  readonly facts: AuditFacts;
  readonly failure: ClassifiedFailure | undefined;
}

/** A finished child span: an operation of the current call, recorded once it is over. */
export interface ChildSpan {
  readonly name: string;
  /** A call to another service (a cloud's API) or work of this process (the audit commit). */
  readonly kind: "client" | "internal";
  /** When it began, in `performance.now()` milliseconds. */
  readonly startedAt: number;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  /** The error reason when it failed (`error.type`, and the span's status ERROR); absent when it succeeded. */
  readonly error?: string;
}
