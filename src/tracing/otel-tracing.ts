import { createRequire } from "node:module";
import type { DescMethodUnary } from "@bufbuild/protobuf";
import { type Context, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, type TextMapGetter, TraceFlags, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import type { Logger } from "pino";
import { type Clock, systemClock } from "../common/clock.js";
import { raceAbort } from "../common/deadline.js";
import type { RequestHeaders, TransportCall } from "../core/call-context.js";
import { ReportingExporter } from "./reporting-exporter.js";
import {
  callEndAttributes,
  callSpanName,
  callStartAttributes,
  isServerFault,
  type RpcSystem,
  rpcSystemOf,
  semconv,
} from "./span-attributes.js";
import type { CallResult, CallSpan, ChildSpan, Tracing } from "./tracing.js";
import type { SamplerName, TracingSettings } from "./tracing-settings.js";

/** What the service is called in traces unless `OTEL_SERVICE_NAME` or `OTEL_RESOURCE_ATTRIBUTES` says otherwise. */
export const defaultServiceName = "cluster-token-service";

/** Options of {@link createOtelTracing}. */
export interface OtelTracingOptions {
  logger: Logger;
  /** Where spans go: the OTLP exporter of the settings' protocol; tests pass an in-memory one. */
  exporter: SpanExporter;
  /** Ends the exporter's connections once the shutdown's bound has passed (see `OtlpExport.destroy`). */
  destroyExporter?: () => void;
  /** Paces the warnings about failed exports. */
  clock?: Clock;
}

/**
 * Now, or the `performance.now()` instant `at`, in epoch milliseconds on the monotonic
 * clock (as the SDK's own `hrTime()` reads it): every start and end is taken so, so
 * that a child never seems to start before its parent or end after it.
 */
const epochMs = (at = performance.now()) => performance.timeOrigin + at;

/** Trace context is read from the request's headers, whatever the transport. */
const headerGetter: TextMapGetter<RequestHeaders> = { get: (headers, key) => headers.get(key), keys: () => [] };

const rootSamplers: Record<"always_on" | "always_off" | "traceidratio", (ratio: number) => Sampler> = {
  always_on: () => new AlwaysOnSampler(),
  always_off: () => new AlwaysOffSampler(),
  traceidratio: (ratio) => new TraceIdRatioBasedSampler(ratio),
};

/** The SDK's sampler for `OTEL_TRACES_SAMPLER`: `parentbased_*` follows the caller's sampled flag when it sent one. */
function samplerFor(name: SamplerName, ratio: number): Sampler {
  if (name.startsWith("parentbased_")) {
    return new ParentBasedSampler({ root: rootSamplers[name.slice("parentbased_".length) as keyof typeof rootSamplers](ratio) });
  }
  return rootSamplers[name as keyof typeof rootSamplers](ratio);
}

function serviceVersion(): string {
  return (createRequire(import.meta.url)("../../../package.json") as { version: string }).version;
}

/**
 * The span of one call (see {@link CallSpan}): a class, so that every call's object
 * has one shape. A span the sampler dropped records nothing, so nothing is built for
 * it: its attributes are set only when it records (the SDK's samplers decide on the
 * trace id and the parent alone).
 */
class OtelCallSpan implements CallSpan {
  readonly traceId: string;
  readonly spanId: string;
  private readonly system: RpcSystem | undefined;

  constructor(
    private readonly span: Span,
    private readonly context: Context,
    private readonly contexts: AsyncLocalStorageContextManager,
    method: DescMethodUnary,
    call: TransportCall,
  ) {
    ({ traceId: this.traceId, spanId: this.spanId } = span.spanContext());
    this.system = span.isRecording() ? rpcSystemOf(call) : undefined;
    if (this.system !== undefined) span.setAttributes(callStartAttributes(method, call, this.system));
  }

  within<T>(work: () => Promise<T>): Promise<T> {
    // A call the sampler dropped has no children to find: it skips the async context, and what entering one costs.
    return this.system === undefined ? work() : this.contexts.with(this.context, work);
  }

  end(result: CallResult): void {
    if (this.system !== undefined) {
      this.span.setAttributes(callEndAttributes(result, this.system));
      if (isServerFault(result)) this.span.setStatus({ code: SpanStatusCode.ERROR, message: result.failure?.error.reason ?? "" });
    }
    this.span.end(epochMs());
  }
}

/**
 * Tracing with the OpenTelemetry SDK: a span per call continuing the caller's W3C
 * trace context, children recorded in the async context of the call they belong to
 * (AsyncLocalStorage, this instance's own: nothing global is registered), batched
 * (`OTEL_BSP_*`, a bounded queue: beyond it spans are dropped, never waited for) and
 * exported by `options.exporter`. The resource is the SDK's default, then
 * `service.name` and `service.version`, then what `OTEL_SERVICE_NAME` and
 * `OTEL_RESOURCE_ATTRIBUTES` say.
 */
export function createOtelTracing(settings: TracingSettings, options: OtelTracingOptions): Tracing {
  const { logger, clock = systemClock } = options;
  const resource = defaultResource()
    .merge(resourceFromAttributes({ "service.name": defaultServiceName, "service.version": serviceVersion() }))
    .merge(detectResources({ detectors: [envDetector] }));
  const reporting = new ReportingExporter(options.exporter, logger, clock);
  const processor = new BatchSpanProcessor({ exporter: reporting, ...settings.batch });
  const provider = new TracerProvider({ resource, sampler: samplerFor(settings.sampler, settings.ratio), spanProcessors: [processor] });
  const tracer = provider.getTracer(defaultServiceName, serviceVersion());
  const propagator = new W3CTraceContextPropagator();
  const contexts = new AsyncLocalStorageContextManager();
  contexts.enable();
  let shutdown: Promise<void> | undefined;
  return {
    startCall(method: DescMethodUnary, call: TransportCall): CallSpan {
      const parent = propagator.extract(ROOT_CONTEXT, call.headers, headerGetter);
      const span = tracer.startSpan(callSpanName(method), { kind: SpanKind.SERVER, startTime: epochMs() }, parent);
      return new OtelCallSpan(span, trace.setSpan(parent, span), contexts, method, call);
    },
    recordChild(child: ChildSpan): void {
      const parent = contexts.active();
      // Outside a call, or in a call the sampler dropped (every built-in sampler drops its children too); a call that
      // has ended still takes children: an upstream call it started may outlive it.
      const flags = trace.getSpan(parent)?.spanContext().traceFlags ?? TraceFlags.NONE;
      if ((flags & TraceFlags.SAMPLED) === 0) return;
      const kind = child.kind === "client" ? SpanKind.CLIENT : SpanKind.INTERNAL;
      const span = tracer.startSpan(child.name, { kind, startTime: epochMs(child.startedAt), attributes: child.attributes }, parent);
      if (child.error !== undefined) {
        span.setAttribute(semconv.errorType, child.error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: child.error });
      }
      span.end(epochMs());
    },
    annotate(key: string, value: string | number | boolean): void {
      trace.getSpan(contexts.active())?.setAttribute(key, value);
    },
    shutdown(timeoutMs: number): Promise<void> {
      shutdown ??= raceAbort(provider.shutdown(), AbortSignal.timeout(timeoutMs))
        .catch((err: unknown) => {
          const timedOut = (err as { name?: unknown } | undefined)?.name === "TimeoutError";
          logger.warn(
            { timeoutMs },
            timedOut ? "spans still queued at exit were not exported in time; dropped" : "tracing did not shut down cleanly",
          );
        })
        .finally(() => {
          reporting.stop();
          options.destroyExporter?.();
          contexts.disable();
        });
      return shutdown;
    },
  };
}
