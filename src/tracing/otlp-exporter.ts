import { readFileSync } from "node:fs";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import type { OtlpProtocol } from "./tracing-settings.js";

/** An OTLP span exporter, and how to end its connections. */
export interface OtlpExport {
  readonly exporter: SpanExporter;
  /**
   * Destroys the exporter's connections at once, an export in flight included: after
   * the shutdown's bound, so that a collector that keeps a request open cannot keep
   * the process from exiting.
   */
  destroy(): void;
}

/** The exporter's TLS files (`OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE`, `…CLIENT_CERTIFICATE`, `…CLIENT_KEY`), read once. */
function tlsOptions(env: NodeJS.ProcessEnv): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  const file = (suffix: string) => {
    const path = [env[`OTEL_EXPORTER_OTLP_TRACES_${suffix}`], env[`OTEL_EXPORTER_OTLP_${suffix}`]].map((p) => p?.trim()).find(Boolean);
    return path ? readFileSync(path) : undefined;
  };
  const [ca, cert, key] = [file("CERTIFICATE"), file("CLIENT_CERTIFICATE"), file("CLIENT_KEY")];
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

/**
 * The OTLP exporter of `protocol`, from the maintained OpenTelemetry package for it,
 * loaded now (only the one chosen). The exporter reads its endpoint, headers,
 * timeout and compression from the environment itself, as the spec says; over HTTP
 * it gets an agent of ours (keep-alive, the environment's TLS files), so that
 * {@link OtlpExport.destroy} can end its connections. Over gRPC every export has a
 * deadline (the exporter's timeout), which bounds it already.
 */
export async function createOtlpExporter(protocol: OtlpProtocol, env: NodeJS.ProcessEnv): Promise<OtlpExport> {
  if (protocol === "grpc") {
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-grpc");
    return { exporter: new OTLPTraceExporter(), destroy: () => {} };
  }
  const tls = tlsOptions(env);
  const agents: (HttpAgent | HttpsAgent)[] = [];
  const httpAgentOptions = (scheme: string) => {
    const agent = scheme === "https:" ? new HttpsAgent({ keepAlive: true, ...tls }) : new HttpAgent({ keepAlive: true });
    agents.push(agent);
    return agent;
  };
  const { OTLPTraceExporter } =
    protocol === "http/json"
      ? await import("@opentelemetry/exporter-trace-otlp-http")
      : await import("@opentelemetry/exporter-trace-otlp-proto");
  return {
    exporter: new OTLPTraceExporter({ httpAgentOptions }),
    destroy: () => {
      for (const agent of agents) agent.destroy();
    },
  };
}
