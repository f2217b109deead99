/**
 * `npm run bench:profile [-- --plaintext --uncached --clusters N --seconds S --method M]`: the CPU profile recipe.
 *
 * Starts the service as its own process under `node --cpu-prof`, drives a gRPC method
 * (GenerateToken by default; ListClusters or Health to compare) with h2load for a few seconds, stops the service (the profile is
 * written on exit), and prints where the server's time went: self time by file and
 * by function. Open the `.cpuprofile` in Chrome DevTools or speedscope for the
 * call tree. Profile before changing code on the hot path, and after.
 */
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { grpcCalls } from "./grpc-calls.js";
import { h2load } from "./load-generators.js";
import { startServerProcess } from "./server-process.js";

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
}

const { values } = parseArgs({
  options: {
    plaintext: { type: "boolean" },
    uncached: { type: "boolean" },
    seconds: { type: "string" },
    clusters: { type: "string" },
    method: { type: "string" },
  },
});
// Checked before the server starts: a bad --method must not leave a server process behind.
const method = (values.method ?? "GenerateToken") as keyof typeof grpcCalls;
const call = Object.hasOwn(grpcCalls, method) ? grpcCalls[method] : undefined;
if (!call) throw new Error(`--method is one of ${Object.keys(grpcCalls).join(", ")}`);
const dir = await mkdtemp(join(tmpdir(), "cts-cpuprof-"));
process.env.BENCH_CPU_PROF = dir;
const server = await startServerProcess({
  plaintext: values.plaintext === true,
  tokenCache: values.uncached !== true,
  moreClusters: Number(values.clusters ?? 1) - 1,
});
const result = await h2load(`${server.scheme}://${server.grpc}`, call, { headers: server.headers, seconds: Number(values.seconds ?? 6) });
await server.stop();

const file = (await readdir(dir)).find((name) => name.endsWith(".cpuprofile"));
if (!file) throw new Error(`no profile was written to ${dir}`);
const profile = JSON.parse(await readFile(join(dir, file), "utf8")) as CpuProfile;
const hits = new Map<number, number>();
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
const byFile = new Map<string, number>();
const byFunction = new Map<string, number>();
const add = (map: Map<string, number>, key: string, n: number) => map.set(key, (map.get(key) ?? 0) + n);
for (const node of profile.nodes) {
  const n = hits.get(node.id) ?? 0;
  const url = node.callFrame.url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*?\/dist\//, "");
  add(byFile, url || `(${node.callFrame.functionName || "native"})`, n);
  add(
    byFunction,
    `${node.callFrame.functionName || "(anonymous)"} ${url.split("/").slice(-2).join("/")}:${node.callFrame.lineNumber + 1}`,
    n,
  );
}
const top = (map: Map<string, number>, count: number) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, n]) => `${((100 * n) / profile.samples.length).toFixed(1).padStart(5)} %  ${key}`)
    .join("\n");
console.log(
  `${method} under h2load: ${Math.round(result.rate)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`,
);
console.log(`profile: ${join(dir, file)}\n\nself time by file\n${top(byFile, 25)}\n\nself time by function\n${top(byFunction, 40)}`);
