import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ClusterTokenService } from "../gen/clustertoken/v1/cluster_token_service_pb.js";
import { Health } from "../gen/health/v1/health_pb.js";
import { spawnStreamFlood } from "../test/support/stream-flood.js";
import { startServerProcess } from "./server-process.js";

/** Milliseconds a call took, or Infinity when it failed or took over 2 s. */
async function timed(call: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  try {
    await call();
    return performance.now() - started;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

const ms = (value: number) => (Number.isFinite(value) ? `${Math.round(value)} ms` : "failed");

/**
 * Issue 18's half-open streams, measured on a production-like process (TLS, API
 * keys, a health port): `connections` connections with a wrong API key each open
 * 10,000 streams that send headers and nothing else, for `seconds`, reconnecting
 * whenever the server closes a connection. Reports RSS
 * before, at its peak and afterwards, and the slowest health check (both ports) and
 * GenerateToken seen while it lasted. The flood runs in its own process.
 */
export async function benchStreamFlood(connections: number, seconds = 12): Promise<string> {
  const server = await startServerProcess({ health: true });
  try {
    const grpc = createGrpcTransport({ baseUrl: `https://${server.grpc}`, nodeOptions: { ca: server.ca } });
    const health = createClient(Health, grpc);
    const portHealth = createClient(Health, createGrpcTransport({ baseUrl: `http://${server.health}` }));
    const tokens = createClient(ClusterTokenService, grpc);
    const probe = () =>
      Promise.all([
        timed(() => health.check({}, { timeoutMs: 2_000 })),
        timed(() => portHealth.check({}, { timeoutMs: 2_000 })),
        timed(() => tokens.generateToken({ clusterId: "bench-eks" }, { headers: server.headers, timeoutMs: 2_000 })),
      ]);
    await probe();
    const baseline = server.rssMb();
    const cpuBefore = server.cpuSeconds();
    const flood = spawnStreamFlood({
      url: `https://${server.grpc}`,
      connections,
      streamsPerConnection: 10_000,
      ca: server.ca.toString(),
      headers: { authorization: "Bearer cts_not-a-real-key" },
    });
    let peak = baseline;
    const slowest = [0, 0, 0];
    const until = performance.now() + seconds * 1000;
    while (performance.now() < until) {
      const took = await probe();
      for (const [i, t] of took.entries()) slowest[i] = Math.max(slowest[i] ?? 0, t);
      peak = Math.max(peak, server.rssMb());
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const cpu = (server.cpuSeconds() - cpuBefore) / seconds;
    await flood.stop();
    const stats = flood.stats();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const after = server.rssMb();
    return (
      `| ${connections} connections × 10,000 header-only streams, ${seconds} s | RSS ${baseline.toFixed(0)} → ${peak.toFixed(0)} MB ` +
      `(+${(peak - baseline).toFixed(0)}), ${after.toFixed(0)} MB after | slowest Health/Check ${ms(slowest[0]!)} (health port ${ms(slowest[1]!)}), ` +
      `GenerateToken ${ms(slowest[2]!)} | ${stats?.reset ?? 0} streams ended by the server, ${stats?.answered ?? 0} answered (the rest refused by nghttp2 or ` +
      `closed with their connection); server CPU ${Math.round(cpu * 100)} % of a core |`
    );
  } finally {
    await server.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seconds = Number(process.argv[3] ?? 12);
  for (const connections of (process.argv[2] ?? "6,20,50").split(",").map(Number))
    console.log(await benchStreamFlood(connections, seconds));
}
