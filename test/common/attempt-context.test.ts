import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setImmediate as turn } from "node:timers/promises";
import { AttemptContext } from "../../src/common/attempt-context.js";

/** Node 20 and 22's AsyncLocalStorage says whether it is enabled (and its promise hooks with it); Node 24's has no hooks to say so. */
const enabled = (context: AttemptContext<unknown>): boolean | undefined =>
  (context as unknown as { storage: { enabled?: boolean } }).storage.enabled;

describe("AttemptContext: an attempt's value through a library that takes no signal, on only while an attempt runs", () => {
  it("gives each of two concurrent attempts its own value, across awaits and timers", async () => {
    const context = new AttemptContext<string>();
    const seen: Array<string | undefined> = [];
    const attempt = (value: string) =>
      context.run(value, async () => {
        await turn();
        seen.push(context.current());
        await new Promise((resolve) => setTimeout(resolve, 1));
        seen.push(context.current());
        return value.toUpperCase();
      });
    assert.deepEqual(await Promise.all([attempt("a"), attempt("b")]), ["A", "B"]);
    assert.deepEqual(seen.sort(), ["a", "a", "b", "b"]);
  });

  it("is off once the last attempt has ended, whether it answered or threw, and on again for the next", async () => {
    const context = new AttemptContext<number>();
    let releaseFirst!: () => void;
    const first = context.run(1, () => new Promise<void>((resolve) => (releaseFirst = resolve)));
    await context.run(2, async () => assert.equal(context.current(), 2));
    assert.notEqual(enabled(context), false, "the first attempt still runs");
    await turn();
    releaseFirst();
    await first;
    assert.equal(context.current(), undefined);
    if (enabled(context) !== undefined) assert.equal(enabled(context), false, "no attempt runs: no promise hooks");

    await assert.rejects(
      context.run(3, async () => {
        await turn();
        throw new Error("refused");
      }),
      /refused/,
    );
    if (enabled(context) !== undefined) assert.equal(enabled(context), false);
    assert.equal(await context.run(4, async () => (await turn(), context.current())), 4);
  });

  it("reads undefined outside any attempt", () => {
    assert.equal(new AttemptContext<string>().current(), undefined);
  });
});
