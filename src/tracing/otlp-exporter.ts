import { readFileSync } from "node:fs";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { Duplex } from "node:stream";
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
 * The exporter's HTTP connections, which {@link closeAll} ends for good: those open
 * are destroyed with an error that has no network code, which the exporter does not
 * retry (it retries a reset connection, which would open a new one to a collector
 * that hangs), and none is opened afterwards.
 */
class ExporterConnections {
  private closed = false;
  private readonly sockets = new Set<Duplex>();

  constructor(private readonly tls: { ca?: Buffer; cert?: Buffer; key?: Buffer }) {}

  /** A keep-alive agent for `scheme` whose connections this tracks. */
  agentFor(scheme: string): HttpAgent {
    const agent = scheme === "https:" ? new HttpsAgent({ keepAlive: true, ...this.tls }) : new HttpAgent({ keepAlive: true });
    const create = agent.createConnection.bind(agent);
    agent.createConnection = (options, callback) => {
      if (this.closed) {
        process.nextTick(() => callback?.(shutDown(), undefined as never));
        return undefined;
      }
      const socket = create(options, callback);
      if (socket) {
        this.sockets.add(socket);
        socket.once("close", () => this.sockets.delete(socket));
      }
      return socket;
    };
    return agent;
  }

  closeAll(): void {
    this.closed = true;
    for (const socket of this.sockets) socket.destroy(shutDown());
  }
}

const shutDown = () => new Error("tracing has shut down; the export is abandoned");

/**
 * The OTLP exporter of `protocol`, from the maintained OpenTelemetry package for it,
 * loaded now (only the one chosen). The exporter reads its endpoint, headers,
 * timeout and compression from the environment itself, as the spec says; over HTTP
 * it gets agents of ours (keep-alive, the environment's TLS files), so that
 * {@link OtlpExport.destroy} can end its connections. Over gRPC every export has a
 * deadline (the exporter's timeout), which bounds it already.
 */
export async function createOtlpExporter(protocol: OtlpProtocol, env: NodeJS.ProcessEnv): Promise<OtlpExport> {
  if (protocol === "grpc") {
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-grpc");
    return { exporter: new OTLPTraceExporter(), destroy: () => {} };
  }
  const connections = new ExporterConnections(tlsOptions(env));
  const { OTLPTraceExporter } =
    protocol === "http/json"
      ? await import("@opentelemetry/exporter-trace-otlp-http")
      : await import("@opentelemetry/exporter-trace-otlp-proto");
  return {
    exporter: new OTLPTraceExporter({ httpAgentOptions: (scheme) => connections.agentFor(scheme) }),
    destroy: () => connections.closeAll(),
  };
}
