import { readFileSync } from "node:fs";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { ClusterTokenService } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import type { Clock } from "../../src/common/clock.js";
import type { ServiceConfig } from "../../src/config/config-schema.js";
import { createLogger } from "../../src/logging/logger.js";
import { providers } from "../../src/providers.js";
import { type RunningServer, type StartOptions, startServer } from "../../src/server.js";
import type { Tracing } from "../../src/tracing/tracing.js";
import { LogCapture } from "./log-capture.js";
import { testConfig } from "./test-config.js";

/** The service running on free loopback ports, with a client per protocol and its captured logs. */
export interface RunningService {
  server: RunningServer;
  logs: LogCapture;
  /** Base URL of the Connect listener, e.g. "http://127.0.0.1:40001". */
  httpUrl: string;
  /** Base URL of the gRPC listener, e.g. "http://127.0.0.1:40002". */
  grpcUrl: string;
  /** Connect protocol (JSON) over HTTP/1.1 to the Connect listener. */
  connect: Client<typeof ClusterTokenService>;
  /** gRPC-Web (binary) over HTTP/1.1 to the Connect listener. */
  grpcWeb: Client<typeof ClusterTokenService>;
  /** gRPC over HTTP/2 to the grpc-js listener. */
  grpc: Client<typeof ClusterTokenService>;
  /** The audit log's lines so far, parsed, once those queued are written. */
  audit(): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** Starts the real server, as `cluster-token serve` does, with logs captured. */
export async function startTestService(
  config: ServiceConfig = testConfig(),
  options: { clock?: Clock; tracing?: Tracing; discoveryOptions?: NonNullable<StartOptions["discoveryOptions"]> } = {},
): Promise<RunningService> {
  const logs = new LogCapture();
  const server = await startServer(config, { logger: createLogger({ level: "debug", destination: logs, providers }), ...options });
  const httpUrl = `http://${server.httpAddress}`;
  const grpcUrl = `http://${server.grpcAddress}`;
  const grpcTransport = createGrpcTransport({ baseUrl: grpcUrl });
  return {
    server,
    logs,
    httpUrl,
    grpcUrl,
    connect: createClient(ClusterTokenService, createConnectTransport({ baseUrl: httpUrl, httpVersion: "1.1", useBinaryFormat: false })),
    grpcWeb: createClient(ClusterTokenService, createGrpcWebTransport({ baseUrl: httpUrl, httpVersion: "1.1" })),
    grpc: createClient(ClusterTokenService, grpcTransport),
    audit: async () => {
      await server.audit.drained(5_000);
      return readFileSync(config.audit.file!, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    close: () => server.close(500),
  };
}
