import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { percentile } from "./server-process.js";

const run = promisify(execFile);

/** What one load run measured. */
export interface LoadResult {
  /** Completed requests per second. */
  rate: number;
  /** Requests the generator counted as succeeded (HTTP 2xx); gRPC status is checked separately. */
  succeeded: number;
  failed: number;
  /** Per-request latencies, in ms, where the generator reports them. */
  p50Ms: number;
  p99Ms: number;
}

/** One gRPC unary call for h2load: the path, and the length-prefixed request message. */
export interface GrpcCall {
  path: string;
  message: Uint8Array;
}

/** The gRPC framing of a unary request: a zero compressed flag, the length (big-endian), the message. */
function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/**
 * Drives `call` over HTTP/2 with h2load (nghttp2), a load generator in its own native
 * process, so the service's process is the only Node on the measured path. `rps` caps
 * the rate of each connection (`--rps`) for latency at a given load; latencies come
 * from h2load's per-request log.
 */
export async function h2load(
  baseUrl: string,
  call: GrpcCall,
  options: { headers?: Record<string, string>; connections?: number; streams?: number; seconds?: number; rps?: number },
): Promise<LoadResult> {
  const { connections = 4, streams = 16, seconds = 4, headers = {}, rps } = options;
  const dir = await mkdtemp(join(tmpdir(), "cts-h2load-"));
  await writeFile(join(dir, "body"), grpcFrame(call.message));
  const args = [
    `--duration=${seconds}`,
    "--warm-up-time=1",
    `--clients=${connections}`,
    `--max-concurrent-streams=${streams}`,
    `--data=${join(dir, "body")}`,
    `--log-file=${join(dir, "log")}`,
    "--header=content-type: application/grpc",
    "--header=te: trailers",
    ...Object.entries(headers).map(([name, value]) => `--header=${name}: ${value}`),
    ...(rps ? [`--rps=${rps}`] : []),
    `${baseUrl}${call.path}`,
  ];
  const { stdout } = await run("h2load", args, { maxBuffer: 16 * 1024 * 1024 });
  const rate = Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(stdout)?.[1]);
  const [, succeeded = "0", failed = "0", errored = "0"] = /(\d+) succeeded, (\d+) failed, (\d+) errored/.exec(stdout) ?? [];
  const latencies = (await readFile(join(dir, "log"), "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((line) => Number(line.split("\t")[2]) / 1000)
    .sort((a, b) => a - b);
  if (!Number.isFinite(rate)) throw new Error(`h2load printed no rate:\n${stdout}`);
  return {
    rate,
    succeeded: Number(succeeded),
    failed: Number(failed) + Number(errored),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

/** One Connect unary call for wrk: the path and its JSON body. */
export interface ConnectCall {
  path: string;
  json: unknown;
}

/** Milliseconds from wrk's "12.34us", "1.20ms" or "2.00s". */
function wrkDuration(text: string | undefined): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text ?? "");
  if (!m) return Number.NaN;
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2] as "us" | "ms" | "s"];
}

/** Drives a Connect JSON call over HTTP/1.1 keep-alive connections with wrk. */
export async function wrk(
  baseUrl: string,
  call: ConnectCall,
  options: { headers?: Record<string, string>; connections?: number; seconds?: number },
): Promise<LoadResult> {
  const { connections = 16, seconds = 4, headers = {} } = options;
  const dir = await mkdtemp(join(tmpdir(), "cts-wrk-"));
  const allHeaders = { "content-type": "application/json", ...headers };
  const script = [
    'wrk.method = "POST"',
    `wrk.body = ${JSON.stringify(JSON.stringify(call.json))}`,
    ...Object.entries(allHeaders).map(([name, value]) => `wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`),
  ].join("\n");
  await writeFile(join(dir, "call.lua"), script);
  const { stdout } = await run(
    "wrk",
    [
      "--threads=1",
      `--connections=${connections}`,
      `--duration=${seconds}s`,
      "--latency",
      "--script",
      join(dir, "call.lua"),
      `${baseUrl}${call.path}`,
    ],
    {
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  const rate = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const total = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const socketErrors = errors ? errors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  if (!Number.isFinite(rate)) throw new Error(`wrk printed no rate:\n${stdout}`);
  return {
    rate,
    succeeded: total - non2xx,
    failed: non2xx + socketErrors,
    p50Ms: wrkDuration(/\s50%\s+(\S+)/.exec(stdout)?.[1]),
    p99Ms: wrkDuration(/\s99%\s+(\S+)/.exec(stdout)?.[1]),
  };
}

/** Two figures taken side by side: each one's median result, and their ratio. */
export interface SideBySide {
  a: LoadResult;
  b: LoadResult;
  /** "median (min–max)" of the per-round ratios b ÷ a. */
  ratio: string;
}

/**
 * Runs `a` and `b` alternately, `rounds` times each, in the order a b, b a, a b, …
 * so that both see the same machine and neither always runs second. Every round
 * yields a ratio b ÷ a; the median of those is the figure, since this machine's
 * noise moves single runs by ±20%. The results are the medians of each side.
 */
export async function sideBySide(
  a: () => Promise<LoadResult>,
  b: () => Promise<LoadResult>,
  rounds = Number(process.env.BENCH_ROUNDS ?? 3),
): Promise<SideBySide> {
  const as: LoadResult[] = [];
  const bs: LoadResult[] = [];
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      as.push(await a());
      bs.push(await b());
    } else {
      bs.push(await b());
      as.push(await a());
    }
  }
  const ratios = as.map((r, i) => (bs[i] as LoadResult).rate / r.rate).sort((x, y) => x - y);
  const range = ratios.length > 1 ? ` (${ratios[0]?.toFixed(2)}–${ratios.at(-1)?.toFixed(2)})` : "";
  return { a: median(as), b: median(bs), ratio: `${percentile(ratios, 50).toFixed(2)}${range}` };
}

/** The median of each figure; counts are summed, so that a check of every request still sees them all. */
function median(results: LoadResult[]): LoadResult {
  const mid = (pick: (r: LoadResult) => number) =>
    percentile(
      results.map(pick).sort((x, y) => x - y),
      50,
    );
  const sum = (pick: (r: LoadResult) => number) => results.reduce((total, r) => total + pick(r), 0);
  return {
    rate: mid((r) => r.rate),
    succeeded: sum((r) => r.succeeded),
    failed: sum((r) => r.failed),
    p50Ms: mid((r) => r.p50Ms),
    p99Ms: mid((r) => r.p99Ms),
  };
}
