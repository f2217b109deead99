import assert from "node:assert/strict";
import { mkdirSync, readFileSync, renameSync, rmSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { tokenFingerprint } from "../../src/core/token-fingerprint.js";
import { expectError } from "../support/error-info.js";
import { until } from "../support/until.js";
import { startAuditedProcess } from "./audit-process.js";

describe("audit rotation, on the real process", () => {
  // SIGHUP also reloads the config: its "config reloaded" line (which a service that never reopens writes too) marks
  // the signal as handled. SIGUSR1 only reopens the audit file.
  for (const { signal, handled } of [
    { signal: "SIGHUP", handled: "config reloaded" },
    { signal: "SIGUSR1", handled: "audit file reopened" },
  ] as const) {
    it(`mv, then ${signal}: once the signal is handled, every line goes to a new file at the path, none to the moved one`, async () => {
      const p = await startAuditedProcess();
      try {
        await p.issue("before-rotation");
        renameSync(p.auditFile, `${p.auditFile}.1`);
        const from = p.svc.lines().length;
        p.svc.child.kill(signal);
        await p.svc.waitForLine((l) => l.msg === handled, 10_000, from);
        const moved = readFileSync(`${p.auditFile}.1`, "utf8");
        const tokens = new Map<string, string>();
        for (let i = 0; i < 5; i++) tokens.set(`after-rotation-${i}`, await p.issue(`after-rotation-${i}`));

        assert.equal(readFileSync(`${p.auditFile}.1`, "utf8"), moved, "nothing went to the moved file after the signal");
        assert.ok(p.auditLines(`${p.auditFile}.1`).some((l) => l.requestId === "before-rotation" && l.outcome === "issued"));
        const lines = p.auditLines();
        for (const [requestId, token] of tokens) {
          const issued = lines.find((l) => l.requestId === requestId && l.outcome === "issued");
          assert.equal(issued?.tokenFingerprint, tokenFingerprint(token), `${requestId} has its line in the new file`);
        }
        await p.svc.waitForLine((l) => l.msg === "audit file reopened" && l.file === p.auditFile, 10_000, from);
        const reloads = p.svc
          .lines()
          .slice(from)
          .filter((l) => typeof l.msg === "string" && l.msg.startsWith("config reload"));
        assert.equal(reloads.length, signal === "SIGHUP" ? 1 : 0, "SIGHUP reloads the config as well; SIGUSR1 does not");
      } finally {
        await p.stop();
      }
    });
  }

  it("the audit file deleted, no signal: every token issued afterwards has its line in a new file at the path", async () => {
    const p = await startAuditedProcess();
    try {
      await p.issue("before-delete");
      unlinkSync(p.auditFile);
      const tokens = new Map<string, string>();
      for (let i = 0; i < 5; i++) tokens.set(`after-delete-${i}`, await p.issue(`after-delete-${i}`));

      const lines = p.auditLines();
      for (const [requestId, token] of tokens) {
        const issued = lines.filter((l) => l.requestId === requestId && l.outcome === "issued");
        assert.equal(issued.length, 1, `${requestId} has one issued line in the new file`);
        assert.equal(issued[0]?.tokenFingerprint, tokenFingerprint(token));
      }
      const warning = await p.svc.waitForLine((l) => l.msg === "process warning");
      assert.equal((warning.warning as { code: string }).code, "CTS_FILE_DELETED");
    } finally {
      await p.stop();
    }
  });

  it("the audit directory removed: issuance fails closed (AUDIT_FAILED) until it is back; then the refusal's `failed` line is written too", async () => {
    const p = await startAuditedProcess();
    const dir = dirname(p.auditFile);
    try {
      await p.issue("before-removal");
      rmSync(dir, { recursive: true });
      const refused = await expectError(
        p.client.generateToken({ clusterId: "demo-eks" }, { headers: { "x-request-id": "while-removed" } }),
        Code.Unavailable,
      );
      assert.equal(refused.info.reason, "AUDIT_FAILED");
      const listing = await p.client.listClusters({});
      assert.ok(listing.clusters.length > 0, "what issues nothing still answers");

      mkdirSync(dir);
      const token = await p.issue("after-return");
      await until(() => p.auditLines().some((l) => l.requestId === "while-removed"), "the refusal's line is written");
      const lines = p.auditLines();
      assert.deepEqual(
        lines.filter((l) => l.requestId === "while-removed").map((l) => [l.outcome, l.reason]),
        [["failed", "AUDIT_FAILED"]],
        "the refused call has its `failed` line, and no `issued` one",
      );
      assert.equal(lines.find((l) => l.requestId === "after-return" && l.outcome === "issued")?.tokenFingerprint, tokenFingerprint(token));
    } finally {
      await p.stop();
    }
  });
});
