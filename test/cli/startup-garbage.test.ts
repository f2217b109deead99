import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { getHeapStatistics } from "node:v8";
import { describe, it } from "node:test";
import { collectStartupGarbage } from "../../src/cli/startup-garbage.js";

const run = promisify(execFile);

describe("collectStartupGarbage", () => {
  it("collects what start-up left dead", async () => {
    let parsed: unknown[] | undefined = Array.from({ length: 200_000 }, (_, i) => ({ id: `cluster-${i}`, labels: { n: String(i) } }));
    const withGarbage = getHeapStatistics().used_heap_size;
    assert.ok(parsed.length > 0);
    parsed = undefined;
    await collectStartupGarbage();
    const after = getHeapStatistics().used_heap_size;
    assert.ok(withGarbage - after > 10 * 1024 * 1024, `the heap went from ${withGarbage} to ${after} bytes`);
  });

  it("works in a Node whose V8 flags are frozen, where setting --expose-gc at run time would abort the process", async () => {
    const module = fileURLToPath(new URL("../../src/cli/startup-garbage.js", import.meta.url));
    const script = `import(${JSON.stringify(module)}).then(async (m) => { await m.collectStartupGarbage(); console.log("collected"); });`;
    const { stdout } = await run(process.execPath, ["--freeze-flags-after-init", "-e", script]);
    assert.equal(stdout.trim(), "collected");
  });
});
