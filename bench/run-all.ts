/**
 * `npm run bench`: measures token issuance. Prints a Markdown table for the README.
 *
 * 1. mintEksToken in-process: the cost of presigning one EKS token.
 * 2. GenerateToken over the wire: the server runs in its own process (as
 *    `cluster-token serve`), the load comes from this process, over Connect JSON
 *    (HTTP/1.1) and over gRPC (HTTP/2, grpc-js server), at a fixed concurrency.
 *
 * Both processes share this machine's cores, so the figures are a floor for a
 * dedicated server, and best compared run to run on the same machine.
 */
import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { stringify } from "yaml";
import { ClusterTokenService } from "../gen/clustertoken/v1/cluster_token_service_pb.js";
import { mintEksToken } from "../src/drivers/aws/eks-token.js";

const cliPath = fileURLToPath(new URL("../src/cli/cluster-token.js", import.meta.url));
const requests = Number(process.env.BENCH_REQUESTS ?? 6000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function benchMint(): Promise<string> {
  const credentials = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
  const n = 20_000;
  for (let i = 0; i < 2000; i++) await mintEksToken({ credentials, region: "us-west-2", clusterName: "demo", now: new Date() });
  const started = performance.now();
  for (let i = 0; i < n; i++) await mintEksToken({ credentials, region: "us-west-2", clusterName: "demo", now: new Date() });
  const ms = performance.now() - started;
  return `| mintEksToken, in-process | ${Math.round(n / (ms / 1000)).toLocaleString("en-US")} tokens/s | ${((ms * 1000) / n).toFixed(1)} µs per token | | |`;
}

async function startServerProcess(): Promise<{ http: string; grpc: string; stop: () => void }> {
  const dir = await mkdtemp(join(tmpdir(), "cts-bench-"));
  await writeFile(join(dir, "key-id"), "AKIAIOSFODNN7EXAMPLE");
  await writeFile(join(dir, "secret"), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  const config = {
    listen: { grpc: "127.0.0.1:0", http: "127.0.0.1:0" },
    credentials: { bench: { provider: "aws", accessKeyId: { file: "key-id" }, secretAccessKey: { file: "secret" } } },
    clusters: [{ id: "bench-eks", provider: "aws", region: "us-west-2", name: "bench", credentials: "bench" }],
  };
  await writeFile(join(dir, "config.yaml"), stringify(config));
  const child = spawn(process.execPath, [cliPath, "serve", "--config", join(dir, "config.yaml")], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d;
      const m = /"grpc":"([^"]+)","http":"([^"]+)"/.exec(out);
      if (m) {
        child.stdout.removeAllListeners("data");
        child.stdout.resume();
        resolve({ grpc: m[1]!, http: m[2]!, stop: () => child.kill("SIGTERM") });
      }
    });
    child.on("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
}

async function load(name: string, call: () => Promise<unknown>): Promise<string> {
  for (let i = 0; i < 500; i++) await call();
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < requests) {
        const t = performance.now();
        await call();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return `| GenerateToken, ${name} | ${Math.round(requests / seconds).toLocaleString("en-US")} req/s | p50 ${percentile(latencies, 50).toFixed(2)} ms | p99 ${percentile(latencies, 99).toFixed(2)} ms | ${concurrency} in flight |`;
}

const rows = [await benchMint()];
const server = await startServerProcess();
try {
  const connect = createClient(ClusterTokenService, createConnectTransport({ baseUrl: `http://${server.http}`, httpVersion: "1.1" }));
  const grpc = createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${server.grpc}` }));
  rows.push(await load("Connect JSON over HTTP/1.1", () => connect.generateToken({ clusterId: "bench-eks" })));
  rows.push(await load("gRPC over HTTP/2", () => grpc.generateToken({ clusterId: "bench-eks" })));
} finally {
  server.stop();
}
console.log(`Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}; ${requests} requests per transport\n`);
console.log("| what | throughput | latency | | |\n|---|---|---|---|---|");
console.log(rows.join("\n"));
