import { type ChildProcess, spawn } from "node:child_process";
import { cliPath, repoRoot } from "./paths.js";

/** How a run of the `cluster-token` bin ended: its exit code and everything it printed. */
export interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the bin with only PATH and `env` in its environment, so that the caller's own settings cannot
 * change what it does; when `until` matches stdout, runs `onReady`, then sends SIGTERM and returns once
 * it exits. A run that does not exit is killed after 20 s.
 */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  until?: RegExp,
  onReady?: (stdout: string, child: ChildProcess) => Promise<void>,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: repoRoot, env: { PATH: process.env.PATH, ...env } });
    let stdout = "";
    let stderr = "";
    let triggered = false;
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.stdout.on("data", (d: Buffer) => {
      stdout += d;
      if (until && !triggered && until.test(stdout)) {
        triggered = true;
        (onReady ? onReady(stdout, child) : Promise.resolve()).then(() => child.kill("SIGTERM"), reject);
      }
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
