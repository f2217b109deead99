import { readFile } from "node:fs/promises";
import { h2load, type LoadResult, type SideBySide, sideBySide, wrk } from "./load-generators.js";
import { startBareGrpcServer } from "./bare-grpc-server.js";
import { grpcCalls } from "./grpc-calls.js";
import { startServerProcess, type ServerProcess } from "./server-process.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 4);

const { Health: healthCheck, GenerateToken: generateToken } = grpcCalls;
const connectGenerateToken = { path: "/clustertoken.v1.ClusterTokenService/GenerateToken", json: { clusterId: "bench-eks" } };
const connectListClusters = { path: "/clustertoken.v1.ClusterTokenService/ListClusters", json: {} };

/** h2load counts HTTP 200 as success, and gRPC errors are 200 too: the audit log tells whether each GenerateToken issued. */
export async function assertIssued(server: ServerProcess, atLeast: number): Promise<void> {
  const issued = (await readFile(server.auditFile, "utf8")).split("\n").filter((l) => l.includes('"outcome":"issued"')).length;
  if (issued < atLeast) throw new Error(`only ${issued} of ${atLeast} GenerateToken calls issued a token: the benchmark measured errors`);
}

/** Fails a benchmark that measured failures, or nothing. */
export function assertClean(what: string, r: LoadResult): void {
  if (r.failed > 0 || r.succeeded === 0) throw new Error(`${what}: ${r.failed} failed, ${r.succeeded} succeeded`);
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;

/** A table row: GenerateToken (side b) against `baseline` (side a), their ratio, and GenerateToken's latency. */
function ratioRow(label: string, baseline: string, { a, b, ratio }: SideBySide): string {
  return row([
    label,
    `GenerateToken ${fmt(b.rate)} req/s ÷ ${baseline} ${fmt(a.rate)} req/s: **${ratio}**`,
    `p50 ${b.p50Ms.toFixed(2)} ms, p99 ${b.p99Ms.toFixed(2)} ms`,
  ]);
}

/**
 * The figures of issue #10, each a ratio taken side by side in one run, so that the
 * shared machine's noise cancels: GenerateToken against the cheapest RPC on the same
 * listener, with the token cache on and off, over gRPC (h2load, 16 streams × 4
 * connections) and Connect JSON over HTTP/1.1 (wrk, 16 connections); and the p99
 * latency at half of the maximum GenerateToken rate.
 */
export async function benchTransportRatios(): Promise<string[]> {
  const rows: string[] = [];
  for (const plaintext of [false, true]) {
    const path = plaintext ? "plaintext" : "TLS + API key + audit file";
    for (const tokenCache of [true, false]) {
      const server = await startServerProcess({ plaintext, tokenCache });
      try {
        const grpcUrl = `${server.scheme}://${server.grpc}`;
        const httpUrl = `${server.scheme}://${server.http}`;
        const options = { headers: server.headers, seconds };
        const grpcRatio = await sideBySide(
          () => h2load(grpcUrl, healthCheck, options),
          () => h2load(grpcUrl, generateToken, options),
        );
        assertClean("Health/Check", grpcRatio.a);
        assertClean("GenerateToken", grpcRatio.b);
        await assertIssued(server, grpcRatio.b.succeeded);
        const token = grpcRatio.b;
        const cache = tokenCache ? "cached" : "uncached";
        rows.push(ratioRow(`gRPC, ${path}, ${cache}`, "Health/Check", grpcRatio));
        if (!tokenCache) continue;
        const connectRatio = await sideBySide(
          () => wrk(httpUrl, connectListClusters, options),
          () => wrk(httpUrl, connectGenerateToken, options),
        );
        assertClean("Connect ListClusters", connectRatio.a);
        assertClean("Connect GenerateToken", connectRatio.b);
        rows.push(ratioRow(`Connect JSON, HTTP/1.1, ${path}, ${cache}`, "ListClusters", connectRatio));
        // Half of the measured maximum, spread over h2load's 4 connections. Two controls at the very same rate: Health/Check
        // on this server, and a bare node:http2 server that only answers (bare-grpc-server.ts): what the machine and the
        // load generator's pacing add to any call (h2load paces --rps with a timer of at least 10 ms, so each connection
        // sends its requests in bursts, and a burst waits for the calls ahead of it).
        const paced = { ...options, rps: Math.max(1, Math.floor(token.rate / 2 / 4)) };
        const { a: healthHalf, b: half } = await sideBySide(
          () => h2load(grpcUrl, healthCheck, paced),
          () => h2load(grpcUrl, generateToken, paced),
          1,
        );
        assertClean("Health/Check at half rate", healthHalf);
        assertClean("GenerateToken at half rate", half);
        const bare = await startBareGrpcServer(server.tls);
        const bareHalf = await h2load(bare.url, healthCheck, paced).finally(() => bare.stop());
        assertClean("the bare server at half rate", bareHalf);
        const latency = (r: LoadResult) => `p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`;
        rows.push(
          row([
            `gRPC, ${path}, ${cache}, at half the maximum rate`,
            `${fmt(half.rate)} req/s`,
            `GenerateToken p50 ${half.p50Ms.toFixed(2)} ms, **p99 ${half.p99Ms.toFixed(2)} ms**; at the same rate, Health/Check ${latency(healthHalf)}, a bare node:http2 server ${latency(bareHalf)}`,
          ]),
        );
      } finally {
        await server.stop();
      }
    }
  }
  return rows;
}
