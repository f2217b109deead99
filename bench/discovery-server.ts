import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ClusterTokenService } from "../gen/clustertoken/v1/cluster_token_service_pb.js";
import type { BenchAccount, BenchClouds } from "./discovery-clouds.js";
import { type GrpcCall, h2load, sideBySide } from "./load-generators.js";
import { percentile, type ServerProcess, startServerProcess } from "./server-process.js";

const added = '"msg":"discovered cluster added"';

/** One grant for every cluster, on every server of the benchmark, so that both sides of a ratio check the same policy. */
export function grantAll(config: Record<string, unknown>): void {
  const security = config.security as { grants?: unknown[] };
  if (security.grants) security.grants = [{ principals: ["key:bench"], clusters: ["*"], rpcs: ["*"] }];
}

/** Resolves once `done()` holds, checking every 20 ms; rejects after `timeoutMs`. */
export async function until(done: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Starts a server with `accounts` (and what `more` adds), counting its discovered clusters from spawn on. */
export async function discoveringServer(
  clouds: BenchClouds,
  accounts: readonly BenchAccount[],
  { metrics = false, more = () => {} }: { metrics?: boolean; more?: (config: Record<string, unknown>) => void } = {},
) {
  let count = 0;
  let partial = "";
  let allAt = Number.NaN;
  const total = accounts.reduce((n, a) => n + a.ids.length, 0);
  const server = await startServerProcess({
    metrics,
    configure: async (config, dir) => {
      grantAll(config);
      await clouds.configure(config, dir, accounts);
      more(config);
    },
    onOutput: (chunk) => {
      // Once every cluster is found, the output is only drained, as other servers' is: reading it costs the shared CPUs.
      if (!Number.isNaN(allAt)) return;
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) if (line.includes(added)) count++;
      if (count >= total && Number.isNaN(allAt)) allAt = performance.now();
    },
  });
  // From the exec of the process (its start-up, measured by startServerProcess) to the last cluster's line.
  const servingAt = performance.now();
  const allDiscoveredMs = () => server.startupMs + (allAt - servingAt);
  return { server, total, discovered: () => count, allDiscoveredMs };
}

/** A gRPC client of `server`, trusting its test CA; pass `server.headers` with each call. */
export function clientOf(server: ServerProcess) {
  return createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `https://${server.grpc}`, nodeOptions: { ca: server.ca } }));
}

/** Median ms of `runs` sequential calls of `call(i)`. */
export async function medianMs(runs: number, call: (i: number) => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await call(i);
    times.push(performance.now() - started);
  }
  return percentile(
    times.sort((a, b) => a - b),
    50,
  );
}

/**
 * Two calls, each on its server, driven alternately by h2load (`BENCH_ROUNDS`
 * rounds of 4 s): their rates and ratio (b ÷ a), and each one's event-loop CPU per
 * call read from /proc, steadier than rates on a shared machine.
 */
export async function compared(a: [ServerProcess, GrpcCall], b: [ServerProcess, GrpcCall]): Promise<string> {
  const cpu = { a: [] as number[], b: [] as number[] };
  const load =
    ([server, call]: [ServerProcess, GrpcCall], into: number[]) =>
    async () => {
      const before = server.eventLoopCpuSeconds() * 1000;
      const result = await h2load(`https://${server.grpc}`, call, { headers: server.headers, seconds: 4 });
      into.push(((server.eventLoopCpuSeconds() * 1000 - before) * 1000) / Math.max(1, result.succeeded));
      return result;
    };
  const { a: ra, b: rb, ratio } = await sideBySide(load(a, cpu.a), load(b, cpu.b));
  const us = (list: number[]) =>
    percentile(
      [...list].sort((x, y) => x - y),
      50,
    ).toFixed(0);
  return `${Math.round(rb.rate)} ÷ ${Math.round(ra.rate)} req/s: **${ratio}**; event-loop CPU ${us(cpu.b)} ÷ ${us(cpu.a)} µs a call`;
}
