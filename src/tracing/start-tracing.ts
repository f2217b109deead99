import type { Logger } from "pino";
import type { Tracing } from "./tracing.js";
import type { TracingSettings } from "./tracing-settings.js";

/**
 * Starts tracing on `settings` (`readTracingSettings`): loads the OpenTelemetry SDK
 * and the OTLP exporter of the chosen protocol, now and only now, so that a process
 * with tracing off never loads them, and says where spans go (the collector's
 * origin, never its headers). The exporter reads its endpoint, headers, timeout and
 * compression from `env`, which must be the process's environment.
 */
export async function startTracing(settings: TracingSettings, env: NodeJS.ProcessEnv, logger: Logger): Promise<Tracing> {
  const [{ createOtelTracing }, { createOtlpExporter }] = await Promise.all([import("./otel-tracing.js"), import("./otlp-exporter.js")]);
  const otlp = await createOtlpExporter(settings.protocol, env);
  const tracing = createOtelTracing(settings, { logger, exporter: otlp.exporter, destroyExporter: otlp.destroy });
  const { protocol, collector, sampler, ratio } = settings;
  logger.info(
    { protocol, collector, sampler, ...(sampler.endsWith("traceidratio") ? { ratio } : {}) },
    "tracing: spans go to an OTLP collector",
  );
  return tracing;
}
