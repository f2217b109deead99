import assert from "node:assert/strict";
import { getHeapStatistics } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, it } from "node:test";
import { collectStartupGarbage } from "../../src/cli/startup-garbage.js";

describe("collectStartupGarbage", () => {
  it("collects what start-up left dead, and leaves gc() unexposed afterwards", () => {
    let parsed: unknown[] | undefined = Array.from({ length: 200_000 }, (_, i) => ({ id: `cluster-${i}`, labels: { n: String(i) } }));
    const withGarbage = getHeapStatistics().used_heap_size;
    assert.ok(parsed.length > 0);
    parsed = undefined;
    collectStartupGarbage();
    const after = getHeapStatistics().used_heap_size;
    assert.ok(withGarbage - after > 10 * 1024 * 1024, `the heap went from ${withGarbage} to ${after} bytes`);
    assert.equal(runInNewContext("typeof gc"), "undefined", "the flag is cleared again");
    assert.equal(typeof (globalThis as { gc?: unknown }).gc, "undefined");
  });
});
