import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { cliPath, repoRoot } from "./paths.js";

/** `cluster-token serve` as its own process, as production runs it, with its output captured. */
export interface ServeProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** The bound addresses from the "serving" line. */
  readonly grpc: string;
  readonly http: string;
  readonly configFile: string;
  /** Standard output so far. */
  stdout(): string;
  stderr(): string;
  /** Standard output's lines so far, parsed (every one must be JSON). */
  lines(): Record<string, unknown>[];
  /** Resolves with the first line (parsed) from line `from` on that satisfies `match`, waiting up to `timeoutMs`. */
  waitForLine(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number, from?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Writes `raw` as a YAML config file in a fresh directory. */
export async function writeConfigFile(raw: unknown): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), "cts-serve-")), "config.yaml");
  await writeFile(file, stringify(raw));
  return file;
}

/**
 * Starts `cluster-token serve --config` on `raw` (or on an existing file) and resolves once it is serving.
 * `spawned` is given the child at once, for a test that acts on it while it starts. `nodeArgs` go to node
 * before the bin, as an image's ENTRYPOINT passes them.
 */
export async function startServeProcess(
  raw: unknown,
  options: {
    env?: NodeJS.ProcessEnv;
    configFile?: string;
    bin?: string;
    cwd?: string;
    nodeArgs?: string[];
    spawned?: (child: ChildProcessWithoutNullStreams) => void;
  } = {},
): Promise<ServeProcess> {
  const configFile = options.configFile ?? (await writeConfigFile(raw));
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.bin ?? cliPath, "serve", "--config", configFile], {
    cwd: options.cwd ?? repoRoot,
    env: { PATH: process.env.PATH, ...options.env },
  });
  options.spawned?.(child);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const lines = () =>
    stdout
      .split("\n")
      .slice(0, -1)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const waitForLine = async (match: (line: Record<string, unknown>) => boolean, timeoutMs = 20_000, from = 0) => {
    const deadline = Date.now() + timeoutMs;
    let exitedEarly = false;
    void exit.then(() => (exitedEarly = true));
    for (;;) {
      const found = lines().slice(from).find(match);
      if (found) return found;
      if (exitedEarly || Date.now() > deadline)
        throw new Error(`no such line; stdout: ${stdout.slice(-2000)} stderr: ${stderr.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  try {
    const serving = await waitForLine((l) => l.msg === "serving");
    return {
      child,
      grpc: String(serving.grpc),
      http: String(serving.http),
      configFile,
      stdout: () => stdout,
      stderr: () => stderr,
      lines,
      waitForLine,
      exited: () => exit,
    };
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
}

/**
 * Runs `test` on `cluster-token serve` started on `raw`, then, whatever the test did,
 * runs `cleanup` (such as clearing a fake's faults) and stops the process with
 * SIGTERM, waiting for it to exit.
 */
export async function whileServing(
  raw: unknown,
  options: Parameters<typeof startServeProcess>[1],
  test: (svc: ServeProcess) => Promise<void>,
  cleanup: () => void | Promise<void> = () => {},
): Promise<void> {
  const svc = await startServeProcess(raw, options);
  try {
    await test(svc);
  } finally {
    await cleanup();
    svc.child.kill("SIGTERM");
    await svc.exited();
  }
}
