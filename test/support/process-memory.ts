import { readFileSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";

/** A process's resident set in MB, from /proc: what an attack costs the process, as the kernel counts it. */
export function rssMb(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
  return kb / 1024;
}

/**
 * Asks a process started with `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR` for a heap snapshot (V8 runs a
 * full garbage collection first) and counts the live objects made by each named constructor.
 */
export async function liveObjects(pid: number, dir: string, constructors: string[]): Promise<Map<string, number>> {
  process.kill(pid, "SIGUSR2");
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [name] = (await readdir(dir)).filter((f) => f.endsWith(".heapsnapshot"));
    const text = name ? await readFile(join(dir, name), "utf8") : "";
    if (text.trimEnd().endsWith("]}")) {
      await rm(join(dir, name!));
      const snapshot = JSON.parse(text) as {
        snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
        nodes: number[];
        strings: string[];
      };
      const { node_fields: fields, node_types: types } = snapshot.snapshot.meta;
      const [typeAt, nameAt, objectType] = [fields.indexOf("type"), fields.indexOf("name"), types[0].indexOf("object")];
      const counts = new Map(constructors.map((c) => [c, 0]));
      for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
        const maker = snapshot.strings[snapshot.nodes[i + nameAt]!]!;
        if (snapshot.nodes[i + typeAt] === objectType && counts.has(maker)) counts.set(maker, counts.get(maker)! + 1);
      }
      return counts;
    }
    if (Date.now() > deadline) throw new Error("no complete heap snapshot within 30 s");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
