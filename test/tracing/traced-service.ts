import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { createLogger } from "../../src/logging/logger.js";
import { providers } from "../../src/providers.js";
import { createOtelTracing } from "../../src/tracing/otel-tracing.js";
import type { Tracing } from "../../src/tracing/tracing.js";
import type { SamplerName } from "../../src/tracing/tracing-settings.js";
import { LogCapture } from "../support/log-capture.js";
import { type RunningService, startTestService } from "../support/running-service.js";
import type { ServeProcess } from "../support/serve-process.js";
import { testConfig } from "../support/test-config.js";
import { otlpTracesPath, type OtlpReceiver } from "./otlp-receiver.js";
import type { ReceivedSpan } from "./otlp-wire.js";

/** The caller's span, as a W3C `traceparent` names it (the example of the W3C Trace Context spec). */
export const callerSpan = { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331" };

/** A `traceparent` header for `span` (the caller's by default), sampled or not. */
export function traceparent(span: { traceId: string; spanId: string } = callerSpan, sampled = true): string {
  return `00-${span.traceId}-${span.spanId}-${sampled ? "01" : "00"}`;
}

/** A caller's span whose id says which of a test's calls it made. */
export const caller = (n: number) => ({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: `00f067aa0ba902b${n}` });

/** The environment a `cluster-token serve` of the test config needs. */

/** A collector's API key, as operators pass one in OTEL_EXPORTER_OTLP_HEADERS: it must reach the collector and nothing else. */
export const collectorKey = "collector-key-5ecret-0123456789";

/** Stops a served process with SIGTERM and resolves with how it exited. */
export async function stop(svc: ServeProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  svc.child.kill("SIGTERM");
  return svc.exited();
}

/** The name of the span of each RPC. */
export const rpcSpanName = (rpc: string) => `clustertoken.v1.ClusterTokenService/${rpc}`;

/** The children of `parent` among `spans`. */
export const childrenOf = (spans: readonly ReceivedSpan[], parent: ReceivedSpan) =>
  spans.filter((s) => s.traceId === parent.traceId && s.parentSpanId === parent.spanId);

/** A service in this process, tracing through the real OTLP/HTTP exporter to `receiver`. */
export interface TracedService {
  svc: RunningService;
  tracing: Tracing;
  /** The tracing's own log lines (failed exports). */
  tracingLogs: LogCapture;
  close(): Promise<void>;
}

/**
 * Starts the service on `raw` with tracing on, as `cluster-token serve` builds it
 * (`createOtelTracing`), exporting over OTLP/HTTP protobuf to `receiver` with a
 * 10 ms batch delay, so that spans arrive while the test waits for them.
 */
export async function startTracedService(
  raw: Record<string, unknown>,
  receiver: OtlpReceiver,
  { sampler = "parentbased_always_on", ratio = 1 }: { sampler?: SamplerName; ratio?: number } = {},
): Promise<TracedService> {
  const tracingLogs = new LogCapture();
  const tracing = createOtelTracing(
    {
      protocol: "http/protobuf",
      collector: receiver.http.url,
      sampler,
      ratio,
      batch: { scheduledDelayMillis: 10, exportTimeoutMillis: 10_000, maxQueueSize: 2048, maxExportBatchSize: 512 },
    },
    {
      logger: createLogger({ destination: tracingLogs, providers }),
      exporter: new OTLPTraceExporter({ url: `${receiver.http.url}${otlpTracesPath}` }),
    },
  );
  const svc = await startTestService(testConfig(raw), { tracing });
  return {
    svc,
    tracing,
    tracingLogs,
    async close() {
      await svc.close();
      await tracing.shutdown(5_000);
    },
  };
}
