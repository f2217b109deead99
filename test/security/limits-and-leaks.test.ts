import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { before, describe, it } from "node:test";
import { promisify } from "node:util";
import { Code, ConnectError } from "@connectrpc/connect";
import { KubeconfigMode } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { expectError } from "../support/error-info.js";
import { bufPath } from "../support/paths.js";
import { startTestService } from "../support/running-service.js";
import { createSecureFixture, secureClients, secureRawConfig, type SecureFixture } from "../support/secure-fixture.js";
import { testAwsKeys, testConfig } from "../support/test-config.js";

describe("security: limits, fail-closed audit, and no leaks", () => {
  let f: SecureFixture;
  before(async () => {
    f = await createSecureFixture();
  });

  it("fails closed when the audit log cannot be written: no token leaves, and the server keeps serving", async () => {
    const svc = await startTestService(testConfig(secureRawConfig(f, { mtls: false, auditFile: "/dev/full" })));
    try {
      for (const client of Object.values(secureClients(svc.server, { ca: f.pki.ca.cert, apiKey: f.keys.deployer.key }))) {
        const { info } = await expectError(client.generateToken({ clusterId: "demo-eks" }), Code.Unavailable);
        assert.equal(info.reason, "AUDIT_FAILED");
      }
      const reader = secureClients(svc.server, { ca: f.pki.ca.cert, apiKey: f.keys.reader.key });
      assert.equal((await reader.grpc.listClusters({})).clusters.length, 2, "calls that issue nothing still work");
      assert.ok(!svc.logs.text().includes("k8s-aws-v1."), "the unaudited token was not logged either");
    } finally {
      await svc.close();
    }
  });

  it("rate-limits per principal: RESOURCE_EXHAUSTED on gRPC, 429 on Connect; other principals unaffected", async () => {
    const svc = await startTestService(testConfig(secureRawConfig(f, { mtls: false, rateLimit: { requestsPerSecond: 0.5, burst: 3 } })));
    try {
      const deployer = secureClients(svc.server, { ca: f.pki.ca.cert, apiKey: f.keys.deployer.key });
      for (let i = 0; i < 3; i++) await deployer.grpc.generateToken({ clusterId: "demo-eks" });
      const limited = await expectError(deployer.grpc.generateToken({ clusterId: "demo-eks" }), Code.ResourceExhausted);
      assert.equal(limited.info.reason, "RATE_LIMITED");
      assert.ok(Number(limited.info.metadata.retry_after_ms) > 0);
      const viaConnect = await deployer.connect.generateToken({ clusterId: "demo-eks" }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      assert.equal(viaConnect?.code, Code.ResourceExhausted);
      const reader = secureClients(svc.server, { ca: f.pki.ca.cert, apiKey: f.keys.reader.key });
      assert.equal((await reader.connect.listClusters({})).clusters.length, 2);
      assert.ok(
        (await svc.audit()).some((l) => l.code === "RESOURCE_EXHAUSTED" && l.outcome === "denied" && l.principal === "key:deployer"),
      );
    } finally {
      await svc.close();
    }
  });

  it("serves reflection only when enabled", async () => {
    const svc = await startTestService(testConfig(secureRawConfig(f, { mtls: false, reflection: false })));
    try {
      const args = ["curl", "--protocol", "grpc", "--cacert", f.pki.ca.certFile, "--list-methods", `https://${svc.server.grpcAddress}`];
      const result = await promisify(execFile)(bufPath, args, { timeout: 20_000 }).then(
        () => "listed",
        (err: { stderr?: string }) => err.stderr ?? "failed",
      );
      assert.match(result, /unimplemented|reflection/i);
    } finally {
      await svc.close();
    }
    const on = await startTestService(testConfig(secureRawConfig(f, { mtls: false })));
    try {
      const { stdout } = await promisify(execFile)(
        bufPath,
        ["curl", "--protocol", "grpc", "--cacert", f.pki.ca.certFile, "--list-methods", `https://${on.server.grpcAddress}`],
        { timeout: 20_000 },
      );
      assert.match(stdout, /clustertoken\.v1\.ClusterTokenService\/GenerateToken/);
    } finally {
      await on.close();
    }
  });

  it("a full flow over both transports and both auth methods leaves no secret, key or token in any log", async () => {
    const svc = await startTestService(testConfig(secureRawConfig(f, { mtls: true })));
    const leaks = new Set<string>([f.keys.deployer.key, f.keys.reader.key, testAwsKeys.secretAccessKey, testAwsKeys.accessKeyId]);
    // Counted, not collected: tokens minted in the same second with the same keys for the same cluster are
    // identical (a presigned URL), so how many distinct ones a run sees depends on the machine's speed.
    let issued = 0;
    for (const cert of [f.ciCert, f.opsCert, f.cnOnlyCert, f.server]) leaks.add(cert.key.toString().split("\n")[1]!);
    try {
      for (const auth of [
        { cert: f.ciCert },
        { cert: f.opsCert, apiKey: f.keys.deployer.key },
        { cert: f.cnOnlyCert },
        { cert: f.ciCert, apiKey: f.keys.reader.key },
        { cert: f.ciCert, apiKey: "cts_not-a-real-key" },
      ]) {
        for (const client of Object.values(secureClients(svc.server, { ca: f.pki.ca.cert, ...auth }))) {
          for (const clusterId of ["demo-eks", "prod-eks", "nope-eks"]) {
            await client.generateToken({ clusterId }).then(
              (r) => {
                leaks.add(r.status!.token);
                issued++;
              },
              () => undefined,
            );
            await client.getKubeconfig({ clusterId }).then(
              (r) => {
                leaks.add(/token: (\S+)/.exec(r.kubeconfig)![1]!);
                issued++;
              },
              () => undefined,
            );
            await client.getKubeconfig({ clusterId, mode: KubeconfigMode.EXEC }).catch(() => undefined);
          }
          await client.listClusters({}).catch(() => undefined);
        }
      }
      assert.ok(
        [...leaks].some((l) => l.startsWith("k8s-aws-v1.")),
        "tokens are among the strings searched for",
      );
      assert.ok(issued >= 2, `tokens were issued over several calls (${issued})`);
      const everything = svc.logs.text() + JSON.stringify(await svc.audit());
      assert.ok((await svc.audit()).length > 20 && svc.logs.lines.length > 20);
      for (const leak of leaks) assert.ok(!everything.includes(leak), `a log leaks ${leak.slice(0, 14)}…`);
    } finally {
      await svc.close();
    }
  });
});
