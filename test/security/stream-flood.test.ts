import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";
import { rssMb } from "../support/process-memory.js";
import { createSecureFixture, secureClients, secureRawConfig, type SecureFixture } from "../support/secure-fixture.js";
import { type ServeProcess, startServeProcess } from "../support/serve-process.js";
import { spawnStreamFlood } from "../support/stream-flood.js";
import { testAwsEnv } from "../support/test-config.js";

describe("the half-open stream flood of issue 18, on the served process with the default limits", () => {
  let f: SecureFixture;
  let svc: ServeProcess;
  let health: string;
  before(async () => {
    f = await createSecureFixture();
    const raw = secureRawConfig(f, { mtls: false }) as { listen: object };
    svc = await startServeProcess({ ...raw, listen: { ...raw.listen, health: "127.0.0.1:0" } }, { env: testAwsEnv });
    health = String((await svc.waitForLine((l) => l.msg === "serving")).health);
  });
  after(() => svc.child.kill("SIGKILL"));

  it("stays within 100 MB of its RSS while 20 connections open header-only streams, reconnecting when closed, and keeps serving clients of the same address", {
    timeout: 60_000,
  }, async (t) => {
    const addresses = { grpcAddress: svc.grpc, httpAddress: svc.http };
    const auth = { ca: f.pki.ca.cert, apiKey: f.keys.deployer.key };
    const { grpc } = secureClients(addresses, auth);
    const checks = createClient(Health, createGrpcTransport({ baseUrl: `https://${svc.grpc}`, nodeOptions: { ca: f.pki.ca.cert } }));
    const portHealth = createClient(Health, createGrpcTransport({ baseUrl: `http://${health}` }));
    const token = async (client = grpc) =>
      assert.match((await client.generateToken({ clusterId: "demo-eks" }, { timeoutMs: 2_000 })).status!.token, /^k8s-aws-v1\./);
    const probe = async () => {
      // The kubelet's probe gives up after 1 s (timeoutSeconds: 1); the others are ordinary callers.
      assert.equal((await portHealth.check({}, { timeoutMs: 1_000 })).status, HealthCheckResponse_ServingStatus.SERVING);
      assert.equal((await checks.check({}, { timeoutMs: 2_000 })).status, HealthCheckResponse_ServingStatus.SERVING);
      await token();
    };
    await probe();
    const baseline = rssMb(svc.child.pid!);
    // From 127.0.0.1, as every client here: a NAT'd fleet whose one member floods.
    const flood = spawnStreamFlood({
      url: `https://${svc.grpc}`,
      connections: 20,
      streamsPerConnection: 1_000_000,
      ca: f.pki.ca.cert.toString(),
      headers: { authorization: "Bearer cts_wrong-key" },
    });
    let peak = baseline;
    let probes = 0;
    let freshClients = 0;
    try {
      const started = performance.now();
      while (performance.now() - started < 10_000) {
        await probe();
        probes++;
        if (probes % 10 === 0) {
          // A new connection from the flooding address, with calls at once: it starts with fewer streams and earns them back.
          const fresh = secureClients(addresses, auth).grpc;
          await Promise.all(Array.from({ length: 10 }, () => token(fresh)));
          freshClients++;
        }
        peak = Math.max(peak, rssMb(svc.child.pid!));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await flood.stop();
    }
    const stats = flood.stats();
    t.diagnostic(
      `RSS ${baseline.toFixed(0)} → ${peak.toFixed(0)} MB; ${probes} probes, ${freshClients} fresh clients; flood ${JSON.stringify(stats)}`,
    );
    assert.ok((stats?.opened ?? 0) > 2_000, "the flood opened its streams (100 a connection at first)");
    assert.ok(freshClients > 0);
    assert.ok(peak - baseline <= 100, `RSS ${baseline.toFixed(0)} MB before, ${peak.toFixed(0)} MB at its peak`);
  });
});
