import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { tokenFingerprint } from "../../src/core/token-fingerprint.js";
import { expectError } from "../support/error-info.js";
import { until } from "../support/until.js";
import { startAuditedProcess } from "./audit-process.js";

/**
 * Sets the soft file-size limit (RLIMIT_FSIZE) of a running process: a write past it
 * stops part-way, then fails with EFBIG (Node ignores SIGXFSZ). A full disk, then a
 * grown one, without root or mounts.
 */
function limitFileSize(pid: number, bytes: number | "unlimited"): void {
  execFileSync("prlimit", ["--pid", String(pid), `--fsize=${bytes}:`]);
}

describe("the audit file on a full disk, on the real process", () => {
  it("a write that fails part-way: the torn line is completed before anything else once there is room, then the promised `failed` line; the file only grows", async () => {
    // A commit timeout long enough that the refusal comes from the failed write, however slow the machine.
    const p = await startAuditedProcess({ commitTimeoutSeconds: 30 });
    const pid = p.svc.child.pid as number;
    const sizes: number[] = [];
    const size = () => {
      const bytes = statSync(p.auditFile).size;
      sizes.push(bytes);
      return bytes;
    };
    try {
      const before = await p.issue("before-full");
      // Room for 100 bytes of the next issued line (about 350): the disk fills in the middle of it.
      const full = size() + 100;
      limitFileSize(pid, full);
      const refused = await expectError(
        p.client.generateToken({ clusterId: "demo-eks" }, { headers: { "x-request-id": "disk-full" } }),
        Code.Unavailable,
      );
      assert.equal(refused.info.reason, "AUDIT_FAILED");
      const text = readFileSync(p.auditFile, "utf8");
      const fragment = text.slice(text.lastIndexOf("\n") + 1);
      assert.ok(fragment.startsWith('{"log":"audit"') && size() === full, "the disk filled in the middle of a line");

      limitFileSize(pid, "unlimited");
      await until(() => size() > full && readFileSync(p.auditFile, "utf8").endsWith("\n"), "the torn line is completed");
      await until(() => p.auditLines().some((l) => l.requestId === "disk-full" && l.outcome === "failed"), "the `failed` line is written");
      const token = await p.issue("after-room");
      size();
      const lines = p.auditLines(); // every line parses: none was glued to a fragment
      assert.deepEqual(
        lines.map((l) => [l.requestId, l.outcome]),
        [
          ["before-full", "issued"],
          ["disk-full", "issued"],
          ["disk-full", "failed"],
          ["after-room", "issued"],
        ],
        "the refused call's line is completed, and its `failed` line has the last word",
      );
      assert.equal(lines[2]?.reason, "AUDIT_FAILED");
      assert.equal(lines[3]?.tokenFingerprint, tokenFingerprint(token));
      assert.deepEqual(
        sizes,
        [...sizes].sort((x, y) => x - y),
        "the file never shrinks (a log shipper tailing it would read it again)",
      );
      for (const issued of [before, token]) {
        assert.ok(!p.svc.stdout().includes(issued) && !p.svc.stderr().includes(issued), "no token in the process's output");
      }
    } finally {
      await p.stop();
    }
  });
});
