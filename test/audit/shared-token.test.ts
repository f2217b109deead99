import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { tokenFingerprint } from "../../src/core/token-fingerprint.js";
import { createSecureFixture, secureClients, secureRawConfig } from "../support/secure-fixture.js";
import { startServeProcess } from "../support/serve-process.js";
import { testAuditFile } from "../support/test-config.js";

describe("the audit truth about shared tokens, on the real process", () => {
  it("two principals who receive one EKS token (same second, same keys) each get an audit line naming its fingerprint", async () => {
    const f = await createSecureFixture();
    const auditFile = testAuditFile();
    const raw = secureRawConfig(f, { mtls: false, auditFile }) as { security: { grants: unknown[] }; tokenCache?: unknown };
    raw.security.grants.push({ principals: ["key:reader"], clusters: ["demo-eks"], rpcs: ["GenerateToken"] });
    // Without the cache, every call mints: a pair that straddles a second can simply be tried again.
    raw.tokenCache = { enabled: false };
    const svc = await startServeProcess(raw, {
      env: {
        CTS_TEST_AWS_ACCESS_KEY_ID: process.env.CTS_TEST_AWS_ACCESS_KEY_ID,
        CTS_TEST_AWS_SECRET_ACCESS_KEY: process.env.CTS_TEST_AWS_SECRET_ACCESS_KEY,
      },
    });
    try {
      const addresses = { httpAddress: svc.http, grpcAddress: svc.grpc };
      const deployer = secureClients(addresses, { ca: f.pki.ca.cert, apiKey: f.keys.deployer.key });
      const reader = secureClients(addresses, { ca: f.pki.ca.cert, apiKey: f.keys.reader.key });
      let shared: { token: string; requestIds: [string, string] } | undefined;
      for (let attempt = 0; shared === undefined; attempt++) {
        assert.ok(attempt < 5, "five pairs of calls never minted in the same second");
        const requestIds: [string, string] = [`deployer-${attempt}`, `reader-${attempt}`];
        const [a, b] = await Promise.all([
          deployer.grpc.generateToken({ clusterId: "demo-eks" }, { headers: { "x-request-id": requestIds[0] } }),
          reader.connect.generateToken({ clusterId: "demo-eks" }, { headers: { "x-request-id": requestIds[1] } }),
        ]);
        if (a.status!.token === b.status!.token) shared = { token: a.status!.token, requestIds };
      }

      svc.child.kill("SIGINT");
      await svc.exited(); // the audit file is complete once the process has stopped
      const lines = readFileSync(auditFile, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, string>);
      const fingerprint = tokenFingerprint(shared.token);
      const naming = lines.filter((l) => l.outcome === "issued" && l.tokenFingerprint === fingerprint);
      assert.deepEqual(
        naming.map((l) => [l.principal, l.requestId]).sort(),
        [
          ["key:deployer", shared.requestIds[0]],
          ["key:reader", shared.requestIds[1]],
        ],
        "the fingerprint names one token, and the audit log names every caller that received it, once each",
      );
    } finally {
      svc.child.kill("SIGKILL");
      await svc.exited();
    }
  });
});
