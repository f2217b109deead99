import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { until } from "./until.js";

/** How long one block of the docs may take: a few commands, a cold `npx` among them, on a shared machine. */
const blockTimeoutMs = 120_000;

/**
 * One terminal a user pastes command blocks into: a single `bash -euo pipefail`
 * reading them from standard input, so that a block sees the directory, variables
 * and umask the blocks before it left, and the first failing command ends it.
 */
export class DocTerminal {
  private readonly child: ChildProcessWithoutNullStreams;
  private out = "";
  private err = "";
  private exitCode: number | null | undefined;
  private blocks = 0;

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    this.child = spawn("bash", ["-euo", "pipefail"], { cwd, env });
    this.child.stdout.setEncoding("utf8").on("data", (d: string) => (this.out += d));
    this.child.stderr.setEncoding("utf8").on("data", (d: string) => (this.err += d));
    this.child.on("exit", (code, signal) => (this.exitCode = code ?? (signal ? -1 : null)));
  }

  /** Pastes `text` and resolves with what it printed on standard output, or rejects with what went wrong. */
  async paste(text: string, where: string): Promise<string> {
    const marker = `<<cts-doc-block-${++this.blocks}-done>>`;
    const from = this.out.length;
    const errFrom = this.err.length;
    this.child.stdin.write(`${text}\nprintf '\\n%s\\n' '${marker}'\n`);
    await until(() => this.out.includes(marker, from) || this.exitCode !== undefined, `${where} finished`, blockTimeoutMs).catch(
      (err: Error) => {
        throw new Error(`${err.message}; stdout: ${this.out.slice(from)} stderr: ${this.err.slice(errFrom)}`);
      },
    );
    if (!this.out.includes(marker, from))
      throw new Error(`${where} failed (exit ${this.exitCode}); stdout: ${this.out.slice(from)} stderr: ${this.err.slice(errFrom)}`);
    return this.out.slice(from, this.out.indexOf(marker, from));
  }

  /** Ends the session as `exit` does, and resolves with bash's exit code. */
  async close(): Promise<number | null> {
    if (this.exitCode === undefined) this.child.stdin.end("exit\n");
    await until(() => this.exitCode !== undefined, "the terminal closed", blockTimeoutMs);
    return this.exitCode ?? null;
  }
}

/**
 * A block that starts the service, run as in a second terminal: its own `bash` in
 * its own process group (so that stopping it reaches `npm` and the node it starts),
 * resolved once it has logged its `serving` line.
 */
export async function startServingBlock(text: string, cwd: string, env: NodeJS.ProcessEnv, where: string): Promise<() => Promise<void>> {
  const child = spawn("bash", ["-euo", "pipefail", "-c", text], { cwd, env, detached: true });
  let out = "";
  let exited = false;
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.on("exit", () => (exited = true));
  const stop = async () => {
    if (exited) return;
    process.kill(-(child.pid as number), "SIGTERM");
    await until(() => exited, `${where} stopped`, 30_000).catch(() => process.kill(-(child.pid as number), "SIGKILL"));
  };
  try {
    await until(() => out.includes('"msg":"serving"') || exited, `${where} serving`, blockTimeoutMs);
    if (exited) throw new Error(`${where} exited before serving: ${out}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return stop;
}
