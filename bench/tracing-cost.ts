import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { grpcCalls } from "./grpc-calls.js";
import { h2load, type LoadResult } from "./load-generators.js";
import { percentile, type ServerProcess, startServerProcess } from "./server-process.js";
import { assertClean, assertIssued } from "./transport-ratios.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const { Health: healthCheck, GenerateToken: generateToken } = grpcCalls;

/**
 * An OTLP/HTTP collector that accepts every export at once and keeps nothing but
 * counts: the bench measures what exporting costs the service, not a collector.
 */
async function startNullCollector(): Promise<{ url: string; exports: () => number; bytes: () => number; close(): void }> {
  let exports = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on("data", (chunk: Buffer) => (bytes += chunk.length));
    req.on("end", () => {
      exports++;
      res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports: () => exports,
    bytes: () => bytes,
    close: () => server.close(),
  };
}

/** The head of the table {@link benchTracingCost} fills. */
export const tracingCostHeader =
  "| cached gRPC GenerateToken, production path | GenerateToken ÷ Health/Check | GenerateToken rate ÷ tracing off | latency | start-up | RSS after |\n|---|---|---|---|---|---|";

/** One server of the comparison, and what each round measured on it. */
interface Mode {
  label: string;
  env: Record<string, string>;
  server?: ServerProcess;
  ratios: number[];
  health: LoadResult[];
  token: LoadResult[];
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const median = (values: number[]) =>
  percentile(
    [...values].sort((x, y) => x - y),
    50,
  );
const spread = (values: number[]) => `${median(values).toFixed(2)} (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`;

/**
 * What tracing costs the hot path: the cached gRPC GenerateToken ÷ Health/Check
 * ratio of `npm run bench` (production path: TLS, an API key, an audit file) on
 * three servers at once, tracing off, on with every call sampled, and on with 1 %
 * (`parentbased_traceidratio`; h2load sends no trace context, so every call is a
 * root). Each round measures every server, in an order that rotates from round to
 * round, Health/Check and GenerateToken alternately, so that the machine's noise
 * falls on all three alike. Health/Check is served outside the call pipeline, so it
 * is never traced: the ratio moves by what tracing adds to a call.
 */
export async function benchTracingCost(): Promise<string[]> {
  const collector = await startNullCollector();
  const traced = (ratio: string) => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
    OTEL_TRACES_SAMPLER_ARG: ratio,
  });
  const modes: Mode[] = [
    { label: "tracing off", env: {}, ratios: [], health: [], token: [] },
    { label: "tracing on, 100 % sampled", env: traced("1"), ratios: [], health: [], token: [] },
    { label: "tracing on, 1 % sampled", env: traced("0.01"), ratios: [], health: [], token: [] },
  ];
  try {
    for (const mode of modes) mode.server = await startServerProcess({ env: mode.env });
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < modes.length; i++) {
        const mode = modes[(round + i) % modes.length]!;
        const server = mode.server!;
        const url = `${server.scheme}://${server.grpc}`;
        const options = { headers: server.headers, seconds };
        const health = () => h2load(url, healthCheck, options);
        const token = () => h2load(url, generateToken, options);
        // Alternate which call goes first, so that neither always runs on a machine warmed by the other.
        const results = (round + i) % 2 === 0 ? [await health(), await token()] : [await token(), await health()].reverse();
        const [healthResult, tokenResult] = results as [LoadResult, LoadResult];
        assertClean(`${mode.label}: Health/Check`, healthResult);
        assertClean(`${mode.label}: GenerateToken`, tokenResult);
        mode.health.push(healthResult);
        mode.token.push(tokenResult);
        mode.ratios.push(tokenResult.rate / healthResult.rate);
      }
    }
    const off = modes[0]!;
    const rows: string[] = [];
    for (const mode of modes) {
      await assertIssued(
        mode.server!,
        mode.token.reduce((sum, r) => sum + r.succeeded, 0),
      );
      const tokenRates = mode.token.map((r) => r.rate);
      const againstOff = tokenRates.map((rate, round) => rate / off.token[round]!.rate);
      rows.push(
        `| ${mode.label} | ${fmt(median(tokenRates))} ÷ ${fmt(median(mode.health.map((r) => r.rate)))} req/s: **${spread(mode.ratios)}** | ${mode === off ? "1" : spread(againstOff)} | p50 ${median(mode.token.map((r) => r.p50Ms)).toFixed(2)} ms, p99 ${median(mode.token.map((r) => r.p99Ms)).toFixed(2)} ms | ${fmt(mode.server!.startupMs)} ms | ${fmt(mode.server!.rssMb())} MB |`,
      );
    }
    rows.push(`\n${collector.exports()} exports, ${fmt(collector.bytes() / 1024)} KiB reached the collector.`);
    return rows;
  } finally {
    await Promise.all(modes.map((mode) => mode.server?.stop()));
    collector.close();
  }
}
