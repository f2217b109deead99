import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { after, describe, it } from "node:test";
import { LineWriteError, LineWriter } from "../../src/logging/line-writer.js";
import { FakeClock } from "../support/fake-clock.js";
import { testAuditFile } from "../support/test-config.js";
import { until } from "../support/until.js";

/** Sets this process's soft limit on file size (RLIMIT_FSIZE): a write past it stops part-way, then fails with EFBIG. */
function limitFileSize(bytes: number | "unlimited"): void {
  execFileSync("prlimit", ["--pid", String(process.pid), `--fsize=${bytes}:`]);
}

const lines = (file: string) => readFileSync(file, "utf8").split("\n");

/** Captures the process warnings emitted while `during` runs. */
async function warningsDuring(during: () => Promise<void>): Promise<string[]> {
  const codes: string[] = [];
  const listener = (warning: Error & { code?: string }) => codes.push(warning.code ?? warning.name);
  process.on("warning", listener);
  try {
    await during();
    await new Promise(setImmediate); // warnings are emitted on the next tick
  } finally {
    process.removeListener("warning", listener);
  }
  return codes;
}

/** Runs `body` with a writer on a fresh file, then closes it (waiting `closeTimeoutMs` at most for what is queued). */
async function withFileWriter(
  body: (writer: LineWriter, file: string) => Promise<void>,
  { closeTimeoutMs, clock }: { closeTimeoutMs?: number; clock?: FakeClock } = {},
): Promise<void> {
  const file = testAuditFile();
  const writer = LineWriter.openFile(file, clock ? { clock } : {});
  try {
    await body(writer, file);
  } finally {
    await writer.close(closeTimeoutMs);
  }
}

describe("LineWriter on a file: a full disk", () => {
  after(() => limitFileSize("unlimited"));

  it("a write that fails part-way (EFBIG): the awaited line is refused, the torn line is completed before anything else once there is room, and the file only grows", async () => {
    const file = testAuditFile();
    const writer = LineWriter.openFile(file);
    const sizes: number[] = [];
    try {
      await writer.appendAndWait('{"n":1}\n', 1_000);
      limitFileSize(statSync(file).size + 12); // room for line 2 and 4 bytes of line 3
      writer.append('{"n":2}\n');
      const refused = writer.appendAndWait('{"n":3,"awaited":true}\n', 5_000);
      await assert.rejects(refused, (err: Error) => err instanceof LineWriteError && /EFBIG/.test(err.message));
      assert.equal(readFileSync(file, "utf8"), '{"n":1}\n{"n":2}\n{"n"', "line 2 is whole; line 3 is torn");
      sizes.push(statSync(file).size);

      writer.append('{"n":4,"promised":true}\n'); // fire-and-forget, such as the `failed` line of a refused issuance
      await until(() => writer.stats.failed === 2, "line 4 failed once");
      sizes.push(statSync(file).size);
      limitFileSize("unlimited");
      await writer.drained(5_000);
      sizes.push(statSync(file).size);
      writer.append('{"n":5}\n');
      await writer.drained(5_000);
      assert.deepEqual(lines(file), ['{"n":1}', '{"n":2}', '{"n":3,"awaited":true}', '{"n":4,"promised":true}', '{"n":5}', ""]);
      assert.deepEqual(
        sizes,
        [...sizes].sort((x, y) => x - y),
        `the file never shrinks (${sizes})`,
      );
      assert.deepEqual(writer.stats, { written: 4, failed: 2, dropped: 0 });
    } finally {
      limitFileSize("unlimited");
      await writer.close();
    }
  });

  it("a line torn in a file that is then rotated is written whole to the new file, first", async () => {
    const file = testAuditFile();
    const writer = LineWriter.openFile(file);
    try {
      await writer.appendAndWait('{"n":1}\n', 1_000);
      limitFileSize(statSync(file).size + 4);
      writer.append('{"n":2}\n');
      await until(() => writer.stats.failed === 1, "line 2 tore");
      limitFileSize("unlimited");
      renameSync(file, `${file}.1`);
      await writer.reopen();
      await writer.appendAndWait('{"n":3}\n', 1_000);
      assert.equal(readFileSync(`${file}.1`, "utf8"), '{"n":1}\n{"n"', "nothing is written to the old file after the signal");
      assert.deepEqual(lines(file), ['{"n":2}', '{"n":3}', ""]);
    } finally {
      limitFileSize("unlimited");
      await writer.close();
    }
  });
});

describe("LineWriter on a file: rotation", () => {
  it("reopen(): after a move, every line not yet written, and every later one, goes to a new file at the path", () =>
    withFileWriter(async (writer, file) => {
      await writer.appendAndWait("1\n", 1_000);
      renameSync(file, `${file}.1`);
      writer.append("2\n"); // queued before the signal, not yet written: it belongs to the new file too
      await writer.reopen();
      await writer.appendAndWait("3\n", 1_000);
      assert.deepEqual(lines(`${file}.1`), ["1", ""]);
      assert.deepEqual(lines(file), ["2", "3", ""]);
    }));

  it("reopen() recreates the file at once, before any line arrives", () =>
    withFileWriter(async (writer, file) => {
      renameSync(file, `${file}.1`);
      await writer.reopen();
      assert.ok(existsSync(file));
    }));

  it("a file moved without a signal: within a second, the next lines go to a new file; those before stay with the moved one", () => {
    const clock = new FakeClock();
    return withFileWriter(
      async (writer, file) => {
        await writer.appendAndWait("1\n", 1_000);
        renameSync(file, `${file}.1`);
        await writer.appendAndWait("2\n", 1_000);
        clock.advance(1_000); // the path is compared with the descriptor once a second
        const warnings = await warningsDuring(() => writer.appendAndWait("3\n", 1_000));
        await writer.appendAndWait("4\n", 1_000);
        assert.deepEqual(lines(`${file}.1`), ["1", "2", "3", ""], "someone can read the moved file");
        assert.deepEqual(lines(file), ["4", ""]);
        assert.deepEqual(warnings, ["CTS_FILE_MOVED"]);
      },
      { clock },
    );
  });

  it("a file deleted without a signal: the batch that went to it is written again to a new file, before its caller is answered", () =>
    withFileWriter(async (writer, file) => {
      await writer.appendAndWait("1\n", 1_000);
      unlinkSync(file);
      const warnings = await warningsDuring(() => writer.appendAndWait("2\n", 1_000));
      assert.deepEqual(lines(file), ["2", ""], "the awaited line is in a file someone can read");
      await writer.appendAndWait("3\n", 1_000);
      assert.deepEqual(lines(file), ["2", "3", ""]);
      assert.deepEqual(warnings, ["CTS_FILE_DELETED"]);
    }));

  it("a path that cannot be reopened: awaited lines fail (fail closed), fire-and-forget ones wait, and all resumes once it can be", () =>
    withFileWriter(async (writer, file) => {
      const dir = dirname(file);
      await writer.appendAndWait("1\n", 1_000);
      rmSync(dir, { recursive: true });
      await assert.rejects(writer.reopen(), /cannot open .* \(ENOENT\)/);
      await assert.rejects(writer.appendAndWait("refused\n", 1_000), /cannot open .* \(ENOENT\)/);
      writer.append("2\n");
      await until(() => writer.stats.failed === 2, "line 2 failed once");
      mkdirSync(dir);
      await writer.drained(5_000);
      await writer.appendAndWait("3\n", 1_000);
      assert.deepEqual(lines(file), ["2", "3", ""]);
    }));

  it("a file deleted with its directory, without a signal: the awaited line fails, since nothing can be written where anyone reads", () =>
    withFileWriter(
      async (writer, file) => {
        await writer.appendAndWait("1\n", 1_000);
        rmSync(dirname(file), { recursive: true });
        await assert.rejects(writer.appendAndWait("2\n", 1_000), /cannot open .* \(ENOENT\)/);
      },
      { closeTimeoutMs: 0 },
    ));
});
