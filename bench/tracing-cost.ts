import { open } from "node:fs/promises";
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
  "| cached gRPC GenerateToken, production path | GenerateToken ÷ Health/Check | GenerateToken rate ÷ tracing off | event-loop CPU a call | latency | start-up | RSS after |\n|---|---|---|---|---|---|---|";

/** Counts the `issued` audit lines appended to `file` since the last count: every GenerateToken that issued, warm-up included. */
function issuedCounter(file: string): () => Promise<number> {
  let offset = 0;
  return async () => {
    const handle = await open(file, "r");
    try {
      const { size } = await handle.stat();
      const buffer = Buffer.alloc(size - offset);
      await handle.read(buffer, 0, buffer.length, offset);
      offset = size;
      return buffer.toString("latin1").split('"outcome":"issued"').length - 1;
    } finally {
      await handle.close();
    }
  };
}

/** One server of the comparison, and what each round measured on it. */
interface Mode {
  label: string;
  env: Record<string, string>;
  server?: ServerProcess;
  ratios: number[];
  health: LoadResult[];
  token: LoadResult[];
  /** Microseconds of the event-loop thread's CPU per GenerateToken, each round. */
  cpuMicros: number[];
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
 * is never traced: the ratio moves by what tracing adds to a call. Since rates on
 * this shared machine move by ±20% from round to round, each GenerateToken run also
 * reads the CPU time the server's event-loop thread spent per call (`/proc`, over
 * every call the audit log says issued, warm-up included), which moves far less.
 */
export async function benchTracingCost(): Promise<string[]> {
  const collector = await startNullCollector();
  const traced = (ratio: string) => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
    OTEL_TRACES_SAMPLER_ARG: ratio,
  });
  const modes: Mode[] = [
    { label: "tracing off", env: {}, ratios: [], health: [], token: [], cpuMicros: [] },
    { label: "tracing on, 100 % sampled", env: traced("1"), ratios: [], health: [], token: [], cpuMicros: [] },
    { label: "tracing on, 1 % sampled", env: traced("0.01"), ratios: [], health: [], token: [], cpuMicros: [] },
  ];
  try {
    for (const mode of modes) mode.server = await startServerProcess({ env: mode.env });
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < modes.length; i++) {
        const mode = modes[(round + i) % modes.length]!;
        const server = mode.server!;
        const url = `${server.scheme}://${server.grpc}`;
        const options = { headers: server.headers, seconds };
        const issued = issuedCounter(server.auditFile);
        const health = () => h2load(url, healthCheck, options);
        const token = async () => {
          await issued();
          const cpuBefore = server.eventLoopCpuSeconds();
          const result = await h2load(url, generateToken, options);
          mode.cpuMicros.push(((server.eventLoopCpuSeconds() - cpuBefore) * 1e6) / (await issued()));
          return result;
        };
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
      const cpu = `${fmt(median(mode.cpuMicros))} µs (${fmt(Math.min(...mode.cpuMicros))}–${fmt(Math.max(...mode.cpuMicros))})`;
      const cpuAgainstOff = mode === off ? "" : `, ${(median(mode.cpuMicros) / median(off.cpuMicros)).toFixed(2)} × off`;
      rows.push(
        `| ${mode.label} | ${fmt(median(tokenRates))} ÷ ${fmt(median(mode.health.map((r) => r.rate)))} req/s: **${spread(mode.ratios)}** | ${mode === off ? "1" : spread(againstOff)} | ${cpu}${cpuAgainstOff} | p50 ${median(mode.token.map((r) => r.p50Ms)).toFixed(2)} ms, p99 ${median(mode.token.map((r) => r.p99Ms)).toFixed(2)} ms | ${fmt(mode.server!.startupMs)} ms | ${fmt(mode.server!.rssMb())} MB |`,
      );
    }
    rows.push(`\n${collector.exports()} exports, ${fmt(collector.bytes() / 1024)} KiB reached the collector.`);
    return rows;
  } finally {
    await Promise.all(modes.map((mode) => mode.server?.stop()));
    collector.close();
  }
}
