import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { describe, it } from "node:test";
import { LineWriteError, LineWriter } from "../../src/logging/line-writer.js";
import { controlledFifo } from "../support/fifo.js";
import { testAuditFile } from "../support/test-config.js";

/** A line that proves its own integrity: its number, a payload of varying length, and the payload's hash. */
function numberedLine(n: number): string {
  const payload = String.fromCharCode(97 + (n % 26)).repeat(10 + ((n * 7919) % 1500));
  return `${JSON.stringify({ n, payload, sha: createHash("sha256").update(payload).digest("hex").slice(0, 12) })}\n`;
}

function assertWholeAndOrdered(lines: string[], count: number): void {
  assert.equal(lines.length, count);
  lines.forEach((line, i) => {
    const parsed = JSON.parse(line) as { n: number; payload: string; sha: string };
    assert.equal(parsed.n, i, "in order");
    assert.equal(parsed.sha, createHash("sha256").update(parsed.payload).digest("hex").slice(0, 12), "whole");
  });
}

describe("LineWriter", () => {
  it("writes every line whole and in order through a pipe that stalls and recovers, and resolves each awaited line", {
    timeout: 30_000,
  }, async () => {
    const fifo = controlledFifo();
    const writer = LineWriter.openFile(fifo.path);
    try {
      // About 4 MB through a 64 KiB pipe buffer: partial writes and EAGAIN happen many times over.
      const awaited: Promise<void>[] = [];
      for (let n = 0; n < 5_000; n++) {
        if (n % 10 === 0) awaited.push(writer.appendAndWait(numberedLine(n), 30_000));
        else writer.append(numberedLine(n));
      }
      // The writer now retries EAGAIN on timers (a write that blocked would hang here until the test's timeout):
      // over 300 ms, the event loop keeps turning, and no turn waits long.
      const { turns, longestGapMs } = await eventLoopTurnsFor(300);
      assert.ok(turns >= 20, `only ${turns} event-loop turns in 300 ms while the pipe was full`);
      assert.ok(longestGapMs < 250, `one event-loop turn waited ${longestGapMs} ms while the pipe was full`);
      assert.ok(writer.stats.written < 5_000, "the stalled pipe holds lines back");
      fifo.resume();
      await Promise.all(awaited);
      assertWholeAndOrdered(await fifo.waitForLines(5_000, 60_000), 5_000);
      assert.deepEqual(writer.stats, { written: 5_000, failed: 0, dropped: 0 });
    } finally {
      await writer.close();
      fifo.close();
    }
  });

  it("rejects an awaited line at its deadline while the sink stalls, withdraws it, and keeps the event loop free", async () => {
    const fifo = controlledFifo();
    const writer = LineWriter.openFile(fifo.path);
    try {
      const filler = "x".repeat(1023);
      for (let i = 0; i < 80; i++) writer.append(`${filler}\n`); // 80 KiB: more than the pipe holds
      await new Promise(setImmediate); // the batch of those lines has started, and is stuck on EAGAIN
      const started = performance.now();
      let loopTurns = 0;
      const spin = setInterval(() => loopTurns++, 5);
      const err = await writer.appendAndWait('{"withdrawn":true}\n', 200).then(
        () => undefined,
        (e: unknown) => e,
      );
      clearInterval(spin);
      const waited = performance.now() - started;
      assert.ok(err instanceof LineWriteError, String(err));
      assert.match(err.message, /in time/);
      assert.ok(waited >= 190 && waited < 1_000, `gave up after ${waited} ms`);
      assert.ok(loopTurns >= 10, `the event loop kept turning (${loopTurns} intervals)`);
      writer.append('{"after":true}\n');
      fifo.resume();
      const lines = await fifo.waitForLines(81);
      assert.ok(!lines.some((l) => l.includes("withdrawn")), "a line that never reached the kernel is withdrawn");
      assert.equal(lines.at(-1), '{"after":true}');
    } finally {
      await writer.close();
      fifo.close();
    }
  });

  it("fails the awaited lines of a failed write (ENOSPC on /dev/full), counts them, and keeps trying later lines", async () => {
    const writer = LineWriter.openFile("/dev/full");
    try {
      writer.append("lost\n");
      const err = await writer.appendAndWait("also lost\n", 5_000).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      assert.ok(err instanceof LineWriteError);
      assert.match(err.message, /ENOSPC/);
      await assert.rejects(writer.appendAndWait("again\n", 5_000), /ENOSPC/, "each write is tried again, and fails again");
      await writer.drained(1_000);
      assert.equal(writer.stats.written, 0);
      assert.equal(writer.stats.failed, 3);
    } finally {
      await writer.close(0); // "lost" is still being tried again: nothing to wait for
    }
  });

  it("gives each awaited line its own deadline: a later line with a shorter timeout is refused first, and withdrawn", async () => {
    const fifo = controlledFifo();
    const writer = LineWriter.openFile(fifo.path);
    // The writer's timers do not hold the process (a stalled sink must not keep it alive); this test must stay.
    const keepAlive = setInterval(() => {}, 1_000);
    try {
      for (let i = 0; i < 80; i++) writer.append(`${"z".repeat(1023)}\n`); // 80 KiB: more than the pipe holds
      await new Promise(setImmediate); // the batch of those lines has started, and is stuck on EAGAIN
      const settled: string[] = [];
      const patient = writer.appendAndWait('{"patient":true}\n', 5_000);
      const hasty = writer.appendAndWait('{"hasty":true}\n', 100);
      patient.then(
        () => settled.push("patient"),
        () => settled.push("patient refused"),
      );
      await assert.rejects(hasty, (err: Error) => err instanceof LineWriteError && /in time/.test(err.message));
      assert.deepEqual(settled, [], "the earlier line, with the longer timeout, still waits");
      fifo.resume();
      await patient;
      const lines = await fifo.waitForLines(81);
      assert.ok(lines.includes('{"patient":true}'), "the patient line is written");
      assert.ok(!lines.some((l) => l.includes("hasty")), "the hasty line, refused before it reached the kernel, is withdrawn");
    } finally {
      clearInterval(keepAlive);
      await writer.close();
      fifo.close();
    }
  });

  it("bounds its queue: a stalled sink drops fire-and-forget lines and refuses awaited ones at once", async () => {
    const fifo = controlledFifo();
    const writer = LineWriter.openFile(fifo.path, { maxQueuedChars: 256 * 1024 });
    try {
      const line = `${"y".repeat(1023)}\n`;
      for (let i = 0; i < 1_000; i++) writer.append(line);
      assert.ok(writer.stats.dropped > 500, `dropped ${writer.stats.dropped}`);
      await assert.rejects(writer.appendAndWait(line, 10_000), /fill its queue/);
    } finally {
      fifo.resume();
      await writer.close();
      fifo.close();
    }
  });

  it("after close, refuses awaited lines and writes nothing more to the file", async () => {
    const file = testAuditFile();
    const writer = LineWriter.openFile(file);
    await writer.appendAndWait("first\n", 1_000);
    await writer.close();
    await assert.rejects(writer.appendAndWait("late\n", 1_000), /closed/);
    writer.append("dropped\n");
    assert.equal(readFileSync(file, "utf8"), "first\n");
    assert.equal(writer.stats.dropped, 1);
  });

  it("lets fire-and-forget lines linger, and flushes them at once, in order, for an awaited line and for drained()", {
    timeout: 10_000,
  }, async (t) => {
    // The linger is a timer: a mock clock moves it, so nothing here waits for real time to pass. A call that lingered
    // while the clock stands still would never settle, and the test would fail at its timeout.
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const file = testAuditFile();
    const lingerMs = 400;
    const writer = new LineWriter({ fd: openSync(file, "a"), owned: true, lingerMs });
    const lines = () => readFileSync(file, "utf8").split("\n").filter(Boolean);
    try {
      writer.append("1\n");
      writer.append("2\n");
      t.mock.timers.tick(lingerMs - 1);
      await threadPoolRoundTrip(); // a write started by now would have completed
      assert.deepEqual(lines(), [], "nobody waits for them yet");
      await writer.appendAndWait("3\n", 5_000);
      assert.deepEqual(lines(), ["1", "2", "3"], "an awaited line does not linger, and takes those before it along");
      writer.append("4\n");
      await writer.drained(5_000);
      assert.deepEqual(lines(), ["1", "2", "3", "4"], "drained() does not wait for the linger either");
      writer.append("5\n");
      t.mock.timers.tick(lingerMs - 1);
      await threadPoolRoundTrip();
      assert.deepEqual(lines(), ["1", "2", "3", "4"], "a new linger starts with the next line");
      t.mock.timers.tick(1);
      for (let trips = 0; lines().length < 5 && trips < 100; trips++) await threadPoolRoundTrip();
      assert.deepEqual(lines(), ["1", "2", "3", "4", "5"], "the linger ends by itself");
    } finally {
      await writer.close();
    }
  });

  it("writes the last lines of standard output before a process whose work is done exits", () => {
    const writerModule = new URL("../../src/logging/line-writer.js", import.meta.url).href;
    const out = execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { stdoutWriter } = await import(${JSON.stringify(writerModule)}); stdoutWriter().append("last words\\n");`,
      ],
      { encoding: "utf8" },
    );
    assert.equal(out, "last words\n");
  });
});

/** One request through libuv's thread pool, behind any write queued there before it. */
const threadPoolRoundTrip = () => stat(tmpdir());

/** How many turns the event loop makes in `windowMs`, and the longest gap between two: long when something blocks it. */
function eventLoopTurnsFor(windowMs: number): Promise<{ turns: number; longestGapMs: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    let turns = 0;
    let last = started;
    let longestGapMs = 0;
    const turn = () => {
      const now = performance.now();
      turns++;
      longestGapMs = Math.max(longestGapMs, now - last);
      last = now;
      if (now - started >= windowMs) resolve({ turns, longestGapMs });
      else setImmediate(turn);
    };
    setImmediate(turn);
  });
}
