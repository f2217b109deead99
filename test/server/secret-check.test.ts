import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, constants, openSync } from "node:fs";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { raceAbort } from "../../src/common/deadline.js";
import type { ServiceConfig } from "../../src/config/config-schema.js";
import { createLogger } from "../../src/logging/logger.js";
import { providers } from "../../src/providers.js";
import { SecretReferenceCheck } from "../../src/server/secret-check.js";
import { LogCapture } from "../support/log-capture.js";

const secret = "s3cr3t-value-never-logged";
type Credentials = ServiceConfig["credentials"];

describe("SecretReferenceCheck", () => {
  let dir: string;
  let logs: LogCapture;
  let reports: Map<string, number>[];
  let check: SecretReferenceCheck;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "cts-secret-check-"));
    logs = new LogCapture();
    reports = [];
    check = new SecretReferenceCheck({
      logger: createLogger({ destination: logs, providers }),
      report: (counts) => reports.push(new Map(counts)),
      intervalMs: 20,
      readTimeoutMs: 200,
    });
    delete process.env.CTS_CHECK_KEY_ID;
    process.env.CTS_CHECK_EMPTY = "";
  });
  afterEach(() => {
    check.close();
    delete process.env.CTS_CHECK_KEY_ID;
    delete process.env.CTS_CHECK_EMPTY;
  });

  const credentials = (): Credentials =>
    ({
      "aws-broken": {
        provider: "aws",
        accessKeyId: { env: "CTS_CHECK_KEY_ID" },
        secretAccessKey: { file: join(dir, "aws-secret") },
      },
      "ncp-empty": { provider: "ncp", accessKey: { env: "CTS_CHECK_EMPTY" }, secretKey: { file: join(dir, "ncp-secret") } },
      "gcp-default": { provider: "gcp", source: "default" },
    }) as unknown as Credentials;

  const warnings = () => logs.records().filter((line) => line.level === "warn");
  const lastReport = () => Object.fromEntries(reports.at(-1) ?? []);

  it("names every unresolvable reference at once: its credentials entry, key, reference and why, never a secret", async () => {
    await writeFile(join(dir, "ncp-secret"), `${secret}\n`);
    const checked = check.checked();
    check.configure({ credentials: credentials() });
    await checked;
    assert.deepEqual(
      warnings().map(({ credentials, key, reference, problem }) => ({ credentials, key, reference, problem })),
      [
        { credentials: "aws-broken", key: "accessKeyId", reference: "env CTS_CHECK_KEY_ID", problem: "is not set" },
        {
          credentials: "aws-broken",
          key: "secretAccessKey",
          reference: `file ${join(dir, "aws-secret")}`,
          problem: "cannot be read (ENOENT)",
        },
        { credentials: "ncp-empty", key: "accessKey", reference: "env CTS_CHECK_EMPTY", problem: "is empty" },
      ],
    );
    assert.match(String(warnings()[0]?.msg), /calls that need these credentials fail with SECRET_UNRESOLVABLE/);
    // Entries with secret references only; gcp-default reads none.
    assert.deepEqual(lastReport(), { "aws-broken": 2, "ncp-empty": 1 });
    const summary = logs.records().find((line) => line.msg === "secret references checked");
    assert.deepEqual([summary?.level, summary?.references, summary?.unresolvable], ["info", 4, 3]);
    assert.ok(!logs.lines.join("\n").includes(secret));
  });

  it("says once when a reference becomes resolvable or stops being so, and reports the counts after every pass", async () => {
    check.configure({ credentials: credentials() });
    await check.checked();
    const announced = warnings().length;
    await check.checked();
    assert.equal(warnings().length, announced, "a reference still unresolvable is not logged again");
    // A Secret mounted a moment late, and an environment variable set (here, by the test).
    await writeFile(join(dir, "aws-secret"), secret);
    process.env.CTS_CHECK_KEY_ID = "AKIAEXAMPLE";
    await check.checked();
    assert.deepEqual(lastReport(), { "aws-broken": 0, "ncp-empty": 2 });
    const resolved = logs.records().filter((line) => line.msg === "a secret reference can be resolved now");
    assert.deepEqual(resolved.map((line) => line.key).sort(), ["accessKeyId", "secretAccessKey"]);
    // The file goes: one warning, not one per pass.
    await rm(join(dir, "aws-secret"));
    await check.checked();
    await check.checked();
    assert.equal(warnings().filter((line) => line.key === "secretAccessKey").length, 2, "once at configure, once when it went");
    assert.deepEqual(lastReport(), { "aws-broken": 1, "ncp-empty": 2 });
  });

  it("a reload names every unresolvable reference again and drops the entries it no longer has", async () => {
    check.configure({ credentials: credentials() });
    await check.checked();
    const before = warnings().length;
    const { "ncp-empty": _dropped, ...rest } = credentials();
    check.configure({ credentials: rest as Credentials });
    await check.checked();
    assert.equal(warnings().length - before, 2, "aws-broken's two, named again");
    assert.deepEqual(lastReport(), { "aws-broken": 2 });
  });

  it("a file read that hangs counts as unresolvable, and holds back every file read until it ends, whatever the passes", async () => {
    const fifo = join(dir, "hung");
    execFileSync("mkfifo", [fifo]);
    try {
      check.configure({
        credentials: {
          "aws-hung": { provider: "aws", accessKeyId: { file: fifo }, secretAccessKey: { file: join(dir, "after") } },
          "ncp-env": { provider: "ncp", accessKey: { env: "CTS_CHECK_KEY_ID" }, secretKey: { env: "CTS_CHECK_EMPTY" } },
        } as unknown as Credentials,
      });
      await check.checked();
      assert.deepEqual(
        warnings().map(({ key, problem }) => ({ key, problem })),
        [
          { key: "accessKeyId", problem: "could not be read within 0.2 s" },
          { key: "accessKey", problem: "is not set" },
          { key: "secretKey", problem: "is empty" },
        ],
        "the file after the hung one waits; environment variables are still checked",
      );
      assert.deepEqual(lastReport(), { "aws-hung": 1, "ncp-env": 2 });
      // More passes than libuv has threads (4): none reads a file again while the hung read lasts.
      for (let i = 0; i < 6; i++) await check.checked();
      assert.deepEqual(lastReport(), { "aws-hung": 1, "ncp-env": 2 }, "the hung file keeps its state");
      assert.equal(warnings().length, 3, "and is not named again");
      await raceAbort(stat(dir), AbortSignal.timeout(2_000), () => new Error("the thread pool is full: a file operation hangs"));
    } finally {
      // Releases the thread that waits in open(): a writer opens and closes the FIFO.
      closeSync(openSync(fifo, constants.O_WRONLY));
    }
  });
});
