import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { generateApiKey } from "../src/auth/api-keys.js";
import { createTestPki } from "../test/support/test-pki.js";

/** The compiled `cluster-token` bin. */
export const cliPath = fileURLToPath(new URL("../src/cli/bin.cjs", import.meta.url));

/** AWS's published example keys: the benchmark signs real tokens that nothing accepts. */
export const benchAwsKeys = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };

/**
 * A `cluster-token serve` child process as in production: TLS on both listeners, one
 * API key granted GenerateToken and ListClusters on `bench-eks` (EKS name `bench`,
 * us-west-2), and audit lines appended to a file. With `plaintext`, neither TLS nor
 * keys (development mode); the audit file stays.
 */
export interface ServerProcess {
  http: string;
  grpc: string;
  /** The metrics listener's address, when started with `metrics`. */
  metrics: string | undefined;
  /** The plaintext gRPC health listener's address, when started with `health`. */
  health: string | undefined;
  /** "https" or "http". */
  scheme: string;
  /** The request headers that authenticate a call (none in plaintext). */
  headers: Record<string, string>;
  auditFile: string;
  /** The CA that signed the server certificate, as PEM and as a file. */
  ca: Buffer;
  caFile: string;
  /** The server's certificate and key files, for a control server on the same TLS (none in plaintext). */
  tls: { certFile: string; keyFile: string } | undefined;
  apiKey: string;
  apiKeyFile: string;
  /** From spawning the process to its "serving" line (SERVING on both listeners), in ms. */
  startupMs: number;
  /** The process's resident set size now, in MB. */
  rssMb(): number;
  /** CPU seconds its event-loop (main) thread has used so far, user and system, from `/proc` (10 ms resolution). */
  eventLoopCpuSeconds(): number;
  /** CPU seconds the whole process (every thread: the event loop, the garbage collector's, libuv's) has used so far. */
  cpuSeconds(): number;
  /** Sends SIGTERM and resolves once the process has exited. */
  stop(): Promise<void>;
}

/**
 * Starts the service as its own process, as in production, on free loopback ports,
 * with `moreClusters` further clusters (with endpoint and CA) besides `bench-eks`,
 * and `env` added to this process's environment (OTEL_* for tracing).
 */
export async function startServerProcess({
  moreClusters = 0,
  plaintext = false,
  tokenCache = true,
  metrics = false,
  env = {},
  health = false,
  configure,
  onOutput,
}: {
  moreClusters?: number;
  plaintext?: boolean;
  tokenCache?: boolean;
  metrics?: boolean;
  /** More environment variables for the server (OTEL_* for tracing). */
  env?: Record<string, string>;
  /** Opens the plaintext health port too. */
  health?: boolean;
  /** Changes the config before it is written: accounts, more grants, other settings. */
  configure?: (config: Record<string, unknown>, dir: string) => void | Promise<void>;
  /** Told every chunk of standard output, from the start (log lines, such as discovered clusters). */
  onOutput?: (chunk: string) => void;
} = {}): Promise<ServerProcess> {
  const dir = await mkdtemp(join(tmpdir(), "cts-bench-"));
  await writeFile(join(dir, "key-id"), benchAwsKeys.accessKeyId);
  await writeFile(join(dir, "secret"), benchAwsKeys.secretAccessKey);
  const pki = await createTestPki("cluster-token bench CA");
  const server = await pki.issue("server", { cn: "cluster-token-service", sans: ["IP:127.0.0.1"], usage: "server" });
  const { key: apiKey, sha256 } = generateApiKey();
  await writeFile(join(dir, "api-key"), apiKey, { mode: 0o600 });
  const config = {
    listen: {
      grpc: "127.0.0.1:0",
      http: "127.0.0.1:0",
      ...(metrics ? { metrics: "127.0.0.1:0" } : {}),
      ...(health ? { health: "127.0.0.1:0" } : {}),
    },
    audit: { file: join(dir, "audit.log") },
    tokenCache: { enabled: tokenCache },
    security: plaintext
      ? { insecurePlaintext: true }
      : {
          tls: { certFile: server.certFile, keyFile: server.keyFile },
          apiKeys: [{ name: "bench", sha256 }],
          grants: [{ principals: ["key:bench"], clusters: ["bench-eks"], rpcs: ["GenerateToken", "ListClusters"] }],
        },
    credentials: { bench: { provider: "aws", accessKeyId: { file: "key-id" }, secretAccessKey: { file: "secret" } } },
    clusters: [
      { id: "bench-eks", provider: "aws", region: "us-west-2", name: "bench", credentials: "bench" },
      ...Array.from({ length: moreClusters }, (_, i) => ({
        id: `scale-${String(i).padStart(5, "0")}`,
        provider: "aws",
        region: "us-west-2",
        name: `scale-${i}`,
        credentials: "bench",
        displayName: `Scale test cluster ${i}`,
        labels: { env: "bench", shard: String(i % 16) },
        endpoint: `https://scale-${i}.gr7.us-west-2.eks.amazonaws.com`,
        certificateAuthorityData: pki.ca.cert.toString("base64"),
      })),
    ],
  };
  await configure?.(config, dir);
  await writeFile(join(dir, "config.yaml"), stringify(config));
  const spawnedAt = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
      cliPath,
      "serve",
      "--config",
      join(dir, "config.yaml"),
    ],
    { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } },
  );
  if (onOutput) child.stdout.setEncoding("utf8").on("data", onOutput);
  return new Promise((resolve, reject) => {
    let out = "";
    const serving = (d: Buffer | string) => {
      out += d;
      const m = /"grpc":"([^"]+)","http":"([^"]+)"(?:,"metrics":"([^"]+)")?(?:,"health":"([^"]+)")?/.exec(out);
      if (m) {
        child.stdout.removeListener("data", serving);
        child.stdout.resume();
        resolve({
          grpc: m[1]!,
          http: m[2]!,
          metrics: m[3],
          health: m[4],
          scheme: plaintext ? "http" : "https",
          headers: plaintext ? {} : { authorization: `Bearer ${apiKey}` },
          auditFile: join(dir, "audit.log"),
          ca: pki.ca.cert,
          caFile: pki.ca.certFile,
          tls: plaintext ? undefined : { certFile: server.certFile, keyFile: server.keyFile },
          apiKey,
          apiKeyFile: join(dir, "api-key"),
          startupMs: performance.now() - spawnedAt,
          rssMb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1]) / 1024,
          eventLoopCpuSeconds: () => statCpuSeconds(`/proc/${child.pid}/task/${child.pid}/stat`),
          cpuSeconds: () => statCpuSeconds(`/proc/${child.pid}/stat`),
          stop: () => {
            const exited = new Promise<void>((done) => child.once("exit", () => done()));
            child.kill("SIGTERM");
            return exited;
          },
        });
      }
    };
    child.stdout.on("data", serving);
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
}

/** CPU seconds in a `/proc` stat file: utime and stime, fields 14 and 15 (clock ticks of 1/100 s), counted after the command's closing paren. */
function statCpuSeconds(file: string): number {
  const stat = readFileSync(file, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The value at percentile `p` of ascending `sorted`. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
