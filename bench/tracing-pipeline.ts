import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { percentile } from "./server-process.js";

const run = promisify(execFile);
const child = fileURLToPath(new URL("./pipeline-calls.js", import.meta.url));

/** The head of the table {@link benchTracingPipeline} fills. */
export const tracingPipelineHeader = "| cached GenerateToken, the call pipeline alone | main-thread CPU a call |\n|---|---|";

/**
 * What tracing adds to the call pipeline itself, without a transport, a network or a
 * load generator (`pipeline-calls.ts`): the main thread's CPU time per cached
 * GenerateToken with tracing off, on at 1 % and on at 100 %, each run in a process
 * of its own, in rotating order, `rounds` times. CPU time per call moves much less
 * than a rate on this shared machine.
 */
export async function benchTracingPipeline(rounds = Number(process.env.BENCH_ROUNDS ?? 3) * 2): Promise<string[]> {
  const modes = [
    { label: "tracing off", arg: "off", micros: [] as number[] },
    { label: "tracing on, 1 % sampled", arg: "0.01", micros: [] as number[] },
    { label: "tracing on, 100 % sampled", arg: "1", micros: [] as number[] },
  ];
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < modes.length; i++) {
      const mode = modes[(round + i) % modes.length]!;
      const { stdout } = await run(process.execPath, [child, mode.arg]);
      mode.micros.push(Number(stdout.trim().split("\n").at(-1)));
    }
  }
  const median = (values: number[]) =>
    percentile(
      [...values].sort((x, y) => x - y),
      50,
    );
  const off = median(modes[0]!.micros);
  return modes.map(({ label, micros }) => {
    const m = median(micros);
    const added = label === "tracing off" ? "" : `: **+${(m - off).toFixed(1)} µs** a call`;
    return `| ${label}, in-process pipeline (${micros.length} runs) | ${m.toFixed(1)} µs (${Math.min(...micros).toFixed(1)}–${Math.max(...micros).toFixed(1)})${added} |`;
  });
}
