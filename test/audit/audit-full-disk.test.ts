import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
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
  it("a write that fails part-way leaves no torn line; the promised `failed` line comes once there is room; the next line is whole", async () => {
    // A commit timeout long enough that the refusal comes from the failed write (after it is cut back), however slow the machine.
    const p = await startAuditedProcess({ commitTimeoutSeconds: 30 });
    const pid = p.svc.child.pid as number;
    try {
      const before = await p.issue("before-full");
      // Room for 100 bytes of the next issued line (about 350): the disk fills in the middle of it.
      limitFileSize(pid, statSync(p.auditFile).size + 100);
      const refused = await expectError(
        p.client.generateToken({ clusterId: "demo-eks" }, { headers: { "x-request-id": "disk-full" } }),
        Code.Unavailable,
      );
      assert.equal(refused.info.reason, "AUDIT_FAILED");
      assert.deepEqual(
        p.auditLines().map((l) => l.requestId),
        ["before-full"],
        "the file is cut back to its last whole line (auditLines throws on a torn one)",
      );

      limitFileSize(pid, "unlimited");
      await until(() => p.auditLines().some((l) => l.requestId === "disk-full"), "the promised `failed` line is written");
      const token = await p.issue("after-room");
      const lines = p.auditLines();
      assert.deepEqual(
        lines.map((l) => [l.requestId, l.outcome]),
        [
          ["before-full", "issued"],
          ["disk-full", "failed"],
          ["after-room", "issued"],
        ],
      );
      assert.equal(lines[1]?.reason, "AUDIT_FAILED");
      assert.equal(lines[2]?.tokenFingerprint, tokenFingerprint(token));
      for (const issued of [before, token]) {
        assert.ok(!p.svc.stdout().includes(issued) && !p.svc.stderr().includes(issued), "no token in the process's output");
      }
    } finally {
      await p.stop();
    }
  });
});
