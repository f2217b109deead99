import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ClusterTokenService, KubeconfigMode } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";
import type { FakeServer } from "../fakes/fake-http-server.js";
import { startServeProcess } from "../support/serve-process.js";
import { callsStarted, httpGet, slowEksConfig, startSlowEks } from "../support/serve-lifecycle.js";
import { testAwsEnv } from "../support/test-config.js";

describe("cluster-token serve: Kubernetes-style shutdown", () => {
  let eks: FakeServer;
  before(async () => {
    eks = await startSlowEks();
  });
  after(() => eks.close());
  const config = (extra: Record<string, unknown> = {}) => slowEksConfig(eks.url, extra);

  it("SIGTERM: NOT_SERVING at once, calls in flight and calls arriving during the drain delay all succeed, then exit 0 within the grace period", async () => {
    const drainDelaySeconds = 2;
    const graceSeconds = 5;
    const svc = await startServeProcess(config({ shutdown: { drainDelaySeconds, graceSeconds } }), { env: testAwsEnv });
    const metricsUrl = `http://${String((await svc.waitForLine((l) => l.msg === "serving")).metrics)}`;
    const transport = createGrpcTransport({ baseUrl: `http://${svc.grpc}` });
    const client = createClient(ClusterTokenService, transport);
    const health = createClient(Health, transport);
    eks.fault = { hold: true }; // each discovery waits at the fake cloud until released: calls stay in flight across the signal
    try {
      const base = eks.requests.length;
      const inFlight = Array.from({ length: 20 }, () => client.getKubeconfig({ clusterId: "slow-eks", mode: KubeconfigMode.EXEC }));
      await eks.received(base + 1);
      await callsStarted(metricsUrl, "GetKubeconfig", 20);
      const signalled = performance.now();
      const before = svc.lines().length;
      svc.child.kill("SIGTERM");
      await svc.waitForLine((l) => l.msg === "shutting down", 5_000, before);
      const status = await health.check({ service: "" });
      assert.equal(status.status, HealthCheckResponse_ServingStatus.NOT_SERVING, "health says NOT_SERVING during the drain");
      assert.equal((await httpGet(`${metricsUrl}/readyz`)).status, 503);
      const probePort = createGrpcTransport({ baseUrl: `http://${String((await svc.waitForLine((l) => l.msg === "serving")).health)}` });
      assert.equal((await createClient(Health, probePort).check({ service: "" })).status, HealthCheckResponse_ServingStatus.NOT_SERVING);
      const arriving = Array.from({ length: 5 }, () => client.getKubeconfig({ clusterId: "slow-eks", mode: KubeconfigMode.EXEC }));
      const tokens = await Promise.all(Array.from({ length: 5 }, () => client.generateToken({ clusterId: "demo-eks" })));
      for (const token of tokens)
        assert.match(token.status?.token ?? "", /^k8s-aws-v1\./, "calls arriving during the drain delay are served");
      await callsStarted(metricsUrl, "GetKubeconfig", 25);
      await svc.waitForLine((l) => String(l.msg).startsWith("closing the listeners"), 10_000, before);
      assert.ok(!svc.lines().some((l) => l.msg === "rpc" && l.rpc === "GetKubeconfig"), "all 25 were in flight when the listeners closed");
      assert.equal(await eks.release(), 1, "their one discovery, which they share");
      const results = await Promise.allSettled([...inFlight, ...arriving]);
      assert.deepEqual(
        results.map((r) => r.status),
        results.map(() => "fulfilled"),
        String(results.find((r) => r.status === "rejected")?.reason),
      );
      const exit = await svc.exited();
      const took = performance.now() - signalled;
      assert.deepEqual(exit, { code: 0, signal: null });
      const delayMs = drainDelaySeconds * 1000;
      assert.ok(took >= delayMs && took < delayMs + graceSeconds * 1000 + 1_000, `exited ${took} ms after SIGTERM`);
      const lines = svc.lines();
      const stopped = lines.findIndex((l) => l.msg === "stopped");
      assert.equal(stopped, lines.length - 1, "stopped is the last line");
      const served = lines.flatMap((l, i) => (l.msg === "rpc" && l.rpc === "GetKubeconfig" && l.code === "OK" && i > before ? [i] : []));
      assert.equal(served.length, 25, "every call in flight and every call that arrived during the drain was answered");
      assert.ok(
        served.every((i) => i < stopped),
        "all of them before the process said it stopped",
      );
    } finally {
      eks.fault = undefined;
      await eks.release();
      svc.child.kill("SIGKILL");
    }
  });

  it("SIGHUP during the drain and the grace period is ignored with a log line; calls in flight finish and the exit is 0", async () => {
    const svc = await startServeProcess(config({ shutdown: { drainDelaySeconds: 1, graceSeconds: 5 } }), { env: testAwsEnv });
    const metricsUrl = `http://${String((await svc.waitForLine((l) => l.msg === "serving")).metrics)}`;
    const client = createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${svc.grpc}` }));
    eks.fault = { hold: true };
    try {
      const base = eks.requests.length;
      const inFlight = Array.from({ length: 4 }, () => client.getKubeconfig({ clusterId: "slow-eks", mode: KubeconfigMode.EXEC }));
      await eks.received(base + 1);
      await callsStarted(metricsUrl, "GetKubeconfig", 4);
      const before = svc.lines().length;
      svc.child.kill("SIGTERM");
      await svc.waitForLine((l) => l.msg === "shutting down", 5_000, before);
      svc.child.kill("SIGHUP");
      const draining = await svc.waitForLine((l) => l.signal === "SIGHUP" && l.phase === "stopping", 5_000, before);
      assert.equal(draining.msg, "SIGHUP ignored: the service is shutting down");
      const closing = svc.lines().length;
      await svc.waitForLine((l) => String(l.msg).startsWith("closing the listeners"), 10_000, before);
      svc.child.kill("SIGHUP");
      await svc.waitForLine((l) => l.signal === "SIGHUP" && l.phase === "stopping", 5_000, closing);
      assert.equal(await eks.release(), 1);
      for (const response of await Promise.all(inFlight)) assert.match(response.kubeconfig, /slow\.eks\.example\.com/);
      assert.deepEqual(await svc.exited(), { code: 0, signal: null });
      assert.ok(!svc.lines().some((l) => l.msg === "config reloaded" || String(l.msg).startsWith("config reload refused")), "no reload");
    } finally {
      eks.fault = undefined;
      await eks.release();
      svc.child.kill("SIGKILL");
    }
  });

  it("SIGINT stops without the drain delay", async () => {
    const svc = await startServeProcess(config({ shutdown: { drainDelaySeconds: 30, graceSeconds: 5 } }), { env: testAwsEnv });
    const signalled = performance.now();
    svc.child.kill("SIGINT");
    assert.deepEqual(await svc.exited(), { code: 0, signal: null });
    assert.ok(performance.now() - signalled < 5_000);
  });
});
