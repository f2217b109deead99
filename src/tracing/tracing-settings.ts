import { accessSync, constants } from "node:fs";
import { keyValueListProblem } from "./key-value-list.js";

/** The OTLP protocols of the OpenTelemetry exporter spec (`OTEL_EXPORTER_OTLP_PROTOCOL`). */
export const otlpProtocols = ["http/protobuf", "http/json", "grpc"] as const;
export type OtlpProtocol = (typeof otlpProtocols)[number];

/** The samplers of the spec's `OTEL_TRACES_SAMPLER` that the SDK has built in (the remote ones need a sampling service). */
export const samplerNames = [
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
  "always_on",
  "always_off",
  "traceidratio",
] as const;
export type SamplerName = (typeof samplerNames)[number];

/** The batch span processor's settings (`OTEL_BSP_*`), with the spec's defaults. */
export interface BatchSettings {
  readonly scheduledDelayMillis: number;
  readonly exportTimeoutMillis: number;
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
}

/** Tracing as the environment configures it, checked. */
export interface TracingSettings {
  readonly protocol: OtlpProtocol;
  /** The collector's origin (scheme, host, port: never user info, a path or a query), for the start-up line. */
  readonly collector: string;
  readonly sampler: SamplerName;
  /** The ratio of the `traceidratio` samplers (`OTEL_TRACES_SAMPLER_ARG`), 1 by default. */
  readonly ratio: number;
  readonly batch: BatchSettings;
}

/** Tracing's environment variables cannot be used as they are: every problem at once, never a value. */
export class TracingEnvError extends Error {
  override readonly name = "TracingEnvError";
  constructor(readonly problems: readonly string[]) {
    super(`invalid OpenTelemetry environment:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** Where each OTLP protocol's collector listens by default (the spec's defaults). */
const defaultCollector: Record<OtlpProtocol, string> = {
  "http/protobuf": "http://localhost:4318",
  "http/json": "http://localhost:4318",
  grpc: "http://localhost:4317",
};

/** A variable's value, trimmed; an empty one counts as unset, as the SDK reads it. */
function read(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

/** The trace-specific variable (`OTEL_EXPORTER_OTLP_TRACES_<X>`) if set, else the general one (`OTEL_EXPORTER_OTLP_<X>`). */
function exporterVariable(env: NodeJS.ProcessEnv, suffix: string): { name: string; value: string } | undefined {
  for (const name of [`OTEL_EXPORTER_OTLP_TRACES_${suffix}`, `OTEL_EXPORTER_OTLP_${suffix}`]) {
    const value = read(env, name);
    if (value !== undefined) return { name, value };
  }
  return undefined;
}

/**
 * Whether tracing is on. Off unless configured: on when `OTEL_SDK_DISABLED` is not
 * `true` and either an OTLP endpoint is set (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_ENDPOINT`) or `OTEL_TRACES_EXPORTER` is `otlp`; off, whatever
 * else is set, when `OTEL_TRACES_EXPORTER` is `none`. Other OTEL variables set for
 * another program in the same environment change nothing while tracing is off.
 */
function tracingOn(env: NodeJS.ProcessEnv, problems: string[]): boolean {
  if (read(env, "OTEL_SDK_DISABLED")?.toLowerCase() === "true") return false;
  const exporter = read(env, "OTEL_TRACES_EXPORTER")?.toLowerCase();
  if (exporter === "none") return false;
  if (exporter !== undefined && exporter !== "otlp") {
    problems.push("OTEL_TRACES_EXPORTER: only otlp (or none) is supported");
    return true;
  }
  return exporter === "otlp" || exporterVariable(env, "ENDPOINT") !== undefined;
}

/** An integer variable of at least `min`, or `fallback` when unset. */
function integer(env: NodeJS.ProcessEnv, name: string, min: number, fallback: number, problems: string[]): number {
  const value = read(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    problems.push(`${name}: must be a whole number of at least ${min}`);
    return fallback;
  }
  return Number(value);
}

/** The collector's origin, after checking that every endpoint set is an http(s) URL. */
function collectorOf(env: NodeJS.ProcessEnv, protocol: OtlpProtocol, problems: string[]): string {
  const endpoint = exporterVariable(env, "ENDPOINT");
  for (const name of ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"]) {
    const value = read(env, name);
    if (value === undefined) continue;
    const url = URL.canParse(value) ? new URL(value) : undefined;
    if (url?.protocol !== "http:" && url?.protocol !== "https:") problems.push(`${name}: must be an http:// or https:// URL`);
  }
  const value = endpoint?.value ?? defaultCollector[protocol];
  return URL.canParse(value) ? new URL(value).origin : "";
}

function samplerOf(env: NodeJS.ProcessEnv, problems: string[]): { sampler: SamplerName; ratio: number } {
  const name = read(env, "OTEL_TRACES_SAMPLER")?.toLowerCase() ?? "parentbased_always_on";
  const sampler = samplerNames.find((known) => known === name);
  if (!sampler) problems.push(`OTEL_TRACES_SAMPLER: must be one of ${samplerNames.join(", ")}`);
  // The argument of any other sampler is ignored, as the spec says.
  const arg = sampler?.endsWith("traceidratio") ? read(env, "OTEL_TRACES_SAMPLER_ARG") : undefined;
  if (arg === undefined) return { sampler: sampler ?? "parentbased_always_on", ratio: 1 };
  const ratio = /^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(arg) ? Number(arg) : Number.NaN;
  if (Number.isNaN(ratio)) problems.push("OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1");
  return { sampler: sampler ?? "parentbased_always_on", ratio: Number.isNaN(ratio) ? 1 : ratio };
}

/** The files named for the exporter's TLS must be readable: the exporter would only skip one it cannot read. */
function checkFiles(env: NodeJS.ProcessEnv, problems: string[]): void {
  for (const suffix of ["CERTIFICATE", "CLIENT_CERTIFICATE", "CLIENT_KEY"]) {
    for (const name of [`OTEL_EXPORTER_OTLP_TRACES_${suffix}`, `OTEL_EXPORTER_OTLP_${suffix}`]) {
      const file = read(env, name);
      if (file === undefined) continue;
      try {
        accessSync(file, constants.R_OK);
      } catch {
        problems.push(`${name}: the file cannot be read`);
      }
    }
  }
}

/**
 * Reads tracing's settings from the standard OpenTelemetry environment variables:
 * undefined when tracing is off (see {@link tracingOn}). When it is on, every
 * variable the service or the OTLP exporter reads is checked first, so that a typo
 * stops the start rather than silently exporting nothing (the SDK itself would
 * only skip what it cannot parse). Problems name the variable, never its value:
 * headers carry collectors' API keys.
 *
 * @throws {TracingEnvError} listing every problem.
 */
export function readTracingSettings(env: NodeJS.ProcessEnv): TracingSettings | undefined {
  const problems: string[] = [];
  if (!tracingOn(env, problems) && problems.length === 0) return undefined;
  const protocolVariable = exporterVariable(env, "PROTOCOL");
  const protocol = otlpProtocols.find((known) => known === (protocolVariable?.value ?? "http/protobuf"));
  if (!protocol) problems.push(`${protocolVariable?.name}: must be one of ${otlpProtocols.join(", ")}`);
  const collector = collectorOf(env, protocol ?? "http/protobuf", problems);
  const { sampler, ratio } = samplerOf(env, problems);
  for (const name of ["OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_RESOURCE_ATTRIBUTES"]) {
    const problem = keyValueListProblem(read(env, name), name.endsWith("HEADERS") ? "header" : "attribute");
    if (problem) problems.push(`${name}: ${problem}`);
  }
  for (const name of ["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"]) integer(env, name, 1, 0, problems);
  for (const name of ["OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION"]) {
    const value = read(env, name);
    if (value !== undefined && value !== "gzip" && value !== "none") problems.push(`${name}: must be gzip or none`);
  }
  checkFiles(env, problems);
  const batch: BatchSettings = {
    scheduledDelayMillis: integer(env, "OTEL_BSP_SCHEDULE_DELAY", 0, 5000, problems),
    exportTimeoutMillis: integer(env, "OTEL_BSP_EXPORT_TIMEOUT", 1, 30000, problems),
    maxQueueSize: integer(env, "OTEL_BSP_MAX_QUEUE_SIZE", 1, 2048, problems),
    maxExportBatchSize: integer(env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 1, 512, problems),
  };
  if (batch.maxExportBatchSize > batch.maxQueueSize)
    problems.push("OTEL_BSP_MAX_EXPORT_BATCH_SIZE: must not exceed OTEL_BSP_MAX_QUEUE_SIZE");
  if (problems.length > 0) throw new TracingEnvError(problems);
  return { protocol: protocol ?? "http/protobuf", collector, sampler, ratio, batch };
}
