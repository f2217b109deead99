import assert from "node:assert/strict";
import { appendFile, mkdtemp, rename, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readSettledFile, settleMaxWaitMs, settleQuietMs, UnsettledFileError } from "../../src/config/settled-file.js";
import { FakeClock } from "../support/fake-clock.js";

/**
 * A file whose modification time is on the fake clock, and a sleep that advances
 * the clock and runs what the "writer" does meanwhile: no real time passes.
 */
async function scene(content: string, changedMsAgo: number) {
  const clock = new FakeClock();
  const path = join(await mkdtemp(join(tmpdir(), "cts-settle-")), "config.yaml");
  /** Stamps the file as modified now, by the fake clock. */
  const touch = () => utimes(path, clock.now() / 1000, clock.now() / 1000);
  await writeFile(path, content);
  await utimes(path, (clock.now() - changedMsAgo) / 1000, (clock.now() - changedMsAgo) / 1000);
  const sleeps: number[] = [];
  const waits: number[] = [];
  const meanwhile: (() => Promise<void>)[] = [];
  const read = (signal?: AbortSignal) =>
    readSettledFile(path, {
      clock,
      ...(signal ? { signal } : {}),
      sleep: async (ms) => {
        sleeps.push(ms);
        clock.advance(ms);
        await meanwhile.shift()?.();
      },
      onWait: (ago) => waits.push(ago),
    });
  return { path, clock, touch, sleeps, waits, meanwhile, read };
}

describe("reading a config file once it has settled", () => {
  it("reads a file untouched for the quiet period at once", async () => {
    const s = await scene("a: 1\n", settleQuietMs);
    assert.equal(await s.read(), "a: 1\n");
    assert.deepEqual(s.sleeps, []);
  });

  it("reads a file changed just now again after the quiet period, and takes it when both reads agree", async () => {
    const s = await scene("a: 1\n", 100);
    assert.equal(await s.read(), "a: 1\n");
    assert.deepEqual(s.sleeps, [settleQuietMs]);
    assert.deepEqual(s.waits, [100]);
  });

  it("waits out a file written in two parts, and returns it whole", async () => {
    const s = await scene("clusters:\n  - id: one\n", 0);
    s.meanwhile.push(async () => {
      await appendFile(s.path, "  - id: two\n");
      await s.touch();
    });
    assert.equal(await s.read(), "clusters:\n  - id: one\n  - id: two\n");
    assert.deepEqual(s.sleeps, [settleQuietMs, settleQuietMs], "the second part restarted the wait");
  });

  it("counts a replacement as a change even with the same content and time (a new inode)", async () => {
    const s = await scene("a: 1\n", 0);
    s.meanwhile.push(async () => {
      const next = `${s.path}.new`;
      await writeFile(next, "a: 1\n");
      await utimes(next, (s.clock.now() - settleQuietMs) / 1000, (s.clock.now() - settleQuietMs) / 1000);
      await rename(next, s.path);
      await utimes(s.path, (s.clock.now() - settleQuietMs) / 1000, (s.clock.now() - settleQuietMs) / 1000);
    });
    assert.equal(await s.read(), "a: 1\n");
    assert.equal(s.sleeps.length, 2);
  });

  it("gives up on a file that keeps changing, within the bound, with a clear reason", async () => {
    const s = await scene("n: 0\n", 0);
    for (let i = 1; i <= 100; i++)
      s.meanwhile.push(async () => {
        await writeFile(s.path, `n: ${i}\n`);
        await s.touch();
      });
    await assert.rejects(s.read(), (err: Error) => {
      assert.ok(err instanceof UnsettledFileError);
      assert.equal(err.message, "the file kept changing for 10 s; it was not read (signal again once it is written)");
      return true;
    });
    assert.ok(s.sleeps.reduce((a, b) => a + b, 0) <= settleMaxWaitMs, `waited ${s.sleeps.length} times`);
    assert.equal(s.sleeps.length, settleMaxWaitMs / settleQuietMs);
  });

  it("stops waiting when its signal aborts, and reports a file it cannot read as the file system does", async () => {
    const s = await scene("a: 1\n", 0);
    const abort = new AbortController();
    s.meanwhile.push(async () => abort.abort(new Error("shutting down")));
    await assert.rejects(s.read(abort.signal), /shutting down/);
    await assert.rejects(readSettledFile(`${s.path}.missing`), { code: "ENOENT" });
  });
});
