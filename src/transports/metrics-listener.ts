import { createServer, type Server } from "node:http";
import { bindAddress } from "../listen-address.js";
import type { ServiceMetrics } from "../metrics/service-metrics.js";
import { type ConnectionGuardOptions, guardHttpConnections } from "./connection-guard.js";
import type { ServingHealth } from "./serving-health.js";

/** The metrics listener, bound. */
export interface MetricsListener {
  /** "host:port", the real port when the config said 0. */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * The operations listener (`listen.metrics`): plaintext, unauthenticated, GET only.
 * - `/metrics`: the Prometheus exposition of `metrics`;
 * - `/healthz`: 200 while the process runs (liveness);
 * - `/readyz`: 200 while health says SERVING, 503 otherwise (readiness), so that an
 *   HTTP-only load balancer or probe can follow the drain after SIGTERM.
 * It reveals no cluster, caller or secret; bind it where only the cluster's
 * monitoring reaches it. Its connections are guarded by `connections`
 * (`limits.maxProbeConnections`), so that stalled clients cannot keep a probe out.
 */
export async function listenMetrics(
  address: string,
  metrics: ServiceMetrics,
  health: ServingHealth,
  connections: ConnectionGuardOptions,
): Promise<MetricsListener> {
  const server: Server = createServer({ headersTimeout: 10_000, requestTimeout: 10_000, keepAliveTimeout: 5_000 }, (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const reply = (status: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" }).end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return reply(405, "only GET\n");
    if (path === "/healthz") return reply(200, "ok\n");
    if (path === "/readyz") return health.isServing ? reply(200, "ok\n") : reply(503, "not serving\n");
    if (path !== "/metrics") return reply(404, "not found: try /metrics, /healthz or /readyz\n");
    metrics.scrape().then(
      (text) => reply(200, text, metrics.registry.contentType),
      () => reply(500, "metrics could not be collected\n"),
    );
  });
  guardHttpConnections(server, connections);
  const bound = await bindAddress(server, address, "metrics");
  return {
    address: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
