import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";
import { tokenFingerprint } from "../../src/core/token-fingerprint.js";
import { expectError } from "../support/error-info.js";
import { controlledFifo } from "../support/fifo.js";
import { startTestService } from "../support/running-service.js";
import { createSecureFixture, secureClients, secureRawConfig, type SecureFixture } from "../support/secure-fixture.js";
import { startServeProcess } from "../support/serve-process.js";
import { rawTestConfig, testConfig } from "../support/test-config.js";
import { ClusterTokenService } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";

/** Runs `call` and returns how long it took, in milliseconds. */
async function timed<T>(call: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await call();
  return { ms: performance.now() - started, result };
}

describe("the audit sink stalls or fails: issuance fails closed, nothing else waits", () => {
  let f: SecureFixture;
  before(async () => {
    f = await createSecureFixture();
  });

  it("a FIFO whose reader stops: issuing calls fail within the commit timeout, health and refusals answer at once, and after the drain every token handed out has its line", async () => {
    const fifo = controlledFifo();
    fifo.resume();
    const commitTimeoutMs = 300;
    const svc = await startTestService(
      testConfig(secureRawConfig(f, { mtls: false, auditFile: fifo.path, auditCommitTimeoutSeconds: commitTimeoutMs / 1000 })),
    );
    try {
      const deployer = secureClients(svc.server, { ca: f.pki.ca.cert, apiKey: f.keys.deployer.key });
      const reader = secureClients(svc.server, { ca: f.pki.ca.cert, apiKey: f.keys.reader.key });
      const health = createClient(
        Health,
        createGrpcTransport({ baseUrl: `https://${svc.server.grpcAddress}`, nodeOptions: { ca: f.pki.ca.cert } }),
      );
      const handedOut = new Map<string, string>(); // request id → token
      const refused: { requestId: string; ms: number }[] = [];
      let sequence = 0;
      const wave = () =>
        Promise.all(
          Array.from({ length: 16 }, async () => {
            const requestId = `stall-${sequence++}`;
            const started = performance.now();
            try {
              const response = await deployer.grpc.generateToken({ clusterId: "demo-eks" }, { headers: { "x-request-id": requestId } });
              handedOut.set(requestId, response.status!.token);
            } catch (err) {
              assert.equal(ConnectError.from(err).code, Code.Unavailable, String(err));
              refused.push({ requestId, ms: performance.now() - started });
            }
          }),
        );
      await wave();
      assert.equal(handedOut.size, 16, "a reading sink lets every issuance through");
      fifo.stall();
      for (let waves = 0; refused.length === 0; waves++) {
        assert.ok(waves < 200, "the stalled sink never refused an issuance");
        await wave();
      }
      // Stalled now: everything that issues nothing answers at once.
      const check = await timed(() => health.check({ service: "" }, { timeoutMs: 2_000 }));
      assert.equal(check.result.status, HealthCheckResponse_ServingStatus.SERVING);
      assert.ok(check.ms < 250, `health answered in ${check.ms} ms`);
      const listing = await timed(() => reader.grpc.listClusters({}));
      assert.equal(listing.result.clusters.length, 2);
      assert.ok(listing.ms < 250, `ListClusters answered in ${listing.ms} ms`);
      const denial = await timed(() => expectError(deployer.connect.generateToken({ clusterId: "prod-eks" }), Code.PermissionDenied));
      assert.ok(denial.ms < 250, `the denial answered in ${denial.ms} ms`);
      const stalled = await expectError(deployer.connect.generateToken({ clusterId: "demo-eks" }), Code.Unavailable);
      assert.equal(stalled.info.reason, "AUDIT_FAILED");
      for (const { ms } of refused) assert.ok(ms < commitTimeoutMs + 1_000, `a refusal took ${ms} ms; the bound is ${commitTimeoutMs} ms`);

      fifo.resume();
      await svc.close(); // writes what is queued, then closes the FIFO: its reader sees the end
      const lines = (await fifo.readToEnd())
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, string>);
      const last = new Map<string, Record<string, string>>();
      for (const line of lines) if (line.rpc === "GenerateToken" && line.requestId) last.set(line.requestId, line);
      for (const [requestId, token] of handedOut) {
        const issued = lines.find((l) => l.requestId === requestId && l.outcome === "issued");
        assert.equal(issued?.tokenFingerprint, tokenFingerprint(token), `the token of ${requestId} has its line`);
        assert.equal(last.get(requestId)?.outcome, "issued", `${requestId}: nothing withdrew it`);
      }
      for (const { requestId } of refused) {
        assert.equal(last.get(requestId)?.outcome, "failed", `${requestId} was refused, and its last line says so`);
        assert.equal(last.get(requestId)?.reason, "AUDIT_FAILED");
      }
      const standingIssued = [...last.values()].filter((l) => l.outcome === "issued").length;
      assert.equal(standingIssued, handedOut.size, "no issued line stands for a response that never left");
    } finally {
      await svc.close();
      fifo.close();
    }
  });

  it("standard output whose reader stops (a hung log shipper): health answers, issuance fails closed, and every log and audit line comes out whole", async () => {
    const raw = { ...rawTestConfig(), audit: { commitTimeoutSeconds: 0.3 } };
    const svc = await startServeProcess(raw, {
      env: {
        CTS_TEST_AWS_ACCESS_KEY_ID: process.env.CTS_TEST_AWS_ACCESS_KEY_ID,
        CTS_TEST_AWS_SECRET_ACCESS_KEY: process.env.CTS_TEST_AWS_SECRET_ACCESS_KEY,
      },
    });
    try {
      const transport = createGrpcTransport({ baseUrl: `http://${svc.grpc}` });
      const client = createClient(ClusterTokenService, transport);
      const health = createClient(Health, transport);
      svc.child.stdout.pause();
      const handedOut: string[] = [];
      let calls = 0;
      let refusal: ConnectError | undefined;
      while (refusal === undefined) {
        assert.ok(calls < 5_000, "a stalled standard output never refused an issuance");
        await Promise.all(
          Array.from({ length: 16 }, async () => {
            calls++;
            try {
              handedOut.push((await client.generateToken({ clusterId: "demo-eks" })).status!.token);
            } catch (err) {
              refusal = ConnectError.from(err);
            }
          }),
        );
      }
      assert.equal(refusal.code, Code.Unavailable, refusal.message);
      const check = await timed(() => health.check({ service: "" }, { timeoutMs: 2_000 }));
      assert.ok(check.ms < 250, `health answered in ${check.ms} ms`);
      const listing = await timed(() => client.listClusters({}));
      assert.ok(listing.ms < 250, `ListClusters answered in ${listing.ms} ms`);

      svc.child.stdout.resume();
      await svc.waitForLine((l) => l.rpc === "ListClusters" && l.msg === "rpc");
      const lines = svc.lines(); // every line parses: none was split or interleaved
      const accessLines = lines.filter((l) => l.msg === "rpc" && l.rpc === "GenerateToken");
      assert.equal(accessLines.length, calls, "one access-log line per call, none dropped");
      const issued = new Set(lines.filter((l) => l.log === "audit" && l.outcome === "issued").map((l) => l.tokenFingerprint));
      for (const token of handedOut) assert.ok(issued.has(tokenFingerprint(token)), "every token handed out has its audit line");
    } finally {
      svc.child.kill("SIGKILL");
      await svc.exited();
    }
  });
});
