import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { benchAwsKeys, cliPath, percentile, type ServerProcess } from "./server-process.js";

const run = promisify(execFile);

async function timeRuns(
  runs: number,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  expect = '"ExecCredential"',
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    const started = performance.now();
    const { stdout } = await run(command, args, { env });
    const ms = performance.now() - started;
    if (!stdout.includes(expect)) throw new Error(`${command} did not print ${expect}`);
    if (i >= 2) times.push(ms); // two warm-up runs fill the page cache
  }
  return times.sort((a, b) => a - b);
}

/**
 * Wall time of one credential as kubectl experiences it: a new process per token.
 * `cluster-token credential` (asking the running service) against
 * `aws eks get-token` for the same cluster and keys, sequentially, same machine.
 */
export async function benchCredentialCommand(server: ServerProcess, runs = Number(process.env.BENCH_CLI_RUNS ?? 20)): Promise<string[]> {
  const base = { PATH: process.env.PATH, HOME: process.env.HOME };
  const args = [
    cliPath,
    "credential",
    "--cluster",
    "bench-eks",
    "--server",
    `https://${server.http}`,
    "--ca-file",
    server.caFile,
    "--api-key-file",
    server.apiKeyFile,
  ];
  const ours = await timeRuns(runs, process.execPath, [...args, "--no-cache"], base);
  // Cached: the first warm-up run fills a cache of its own, every later run reads it. Cached runs and bare
  // Node starts alternate, one of each per round, so that the machine's drift affects both alike.
  const cacheDir = mkdtempSync(join(tmpdir(), "cts-bench-cache-"));
  const cached: number[] = [];
  const bareNode: number[] = [];
  for (let round = 0; round < runs; round++) {
    cached.push(...(await timeRuns(1, process.execPath, args, { ...base, CLUSTER_TOKEN_CACHE_DIR: cacheDir })));
    bareNode.push(...(await timeRuns(1, process.execPath, ["-e", "process.stdout.write('node')"], base, "node")));
  }
  cached.sort((a, b) => a - b);
  bareNode.sort((a, b) => a - b);
  const awscli = await timeRuns(runs, "aws", ["eks", "get-token", "--cluster-name", "bench", "--region", "us-west-2"], {
    ...base,
    AWS_ACCESS_KEY_ID: benchAwsKeys.accessKeyId,
    AWS_SECRET_ACCESS_KEY: benchAwsKeys.secretAccessKey,
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  });
  const row = (name: string, t: number[]) =>
    `| ${name} | median ${percentile(t, 50).toFixed(0)} ms | p90 ${percentile(t, 90).toFixed(0)} ms | min ${t[0]!.toFixed(0)} ms | ${runs} runs |`;
  const ratio = percentile(ours, 50) / percentile(awscli, 50);
  const cachedRatio = percentile(cached, 50) / percentile(bareNode, 50);
  return [
    row("`cluster-token credential --no-cache` (one token, new process, TLS + API key)", ours),
    row("`aws eks get-token` (same cluster and keys)", awscli),
    `| ratio of medians | ${ratio.toFixed(3)} (goal ≤ 0.2) | | | |`,
    row("`cluster-token credential`, cached", cached),
    row("`node -e` (a bare Node process)", bareNode),
    `| cached ÷ bare Node, medians | ${cachedRatio.toFixed(3)} (goal ≤ 1.3) | | | |`,
  ];
}
