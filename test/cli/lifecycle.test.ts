import assert from "node:assert/strict";
import { get } from "node:http";
import { appendFile, writeFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { parse, stringify } from "yaml";
import { ClusterTokenService, KubeconfigMode } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";
import { startFakeEks } from "../fakes/fake-eks.js";
import type { FakeServer } from "../fakes/fake-http-server.js";
import { sample } from "../support/metric-sample.js";
import { startServeProcess } from "../support/serve-process.js";
import { rawTestConfig, testAwsKeys, testCaData, testConfig } from "../support/test-config.js";

const childEnv = { CTS_TEST_AWS_ACCESS_KEY_ID: testAwsKeys.accessKeyId, CTS_TEST_AWS_SECRET_ACCESS_KEY: testAwsKeys.secretAccessKey };

/** GET `url`: status and body. */
function httpGet(url: string): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, type: res.headers["content-type"] }));
    }).on("error", reject);
  });
}

/**
 * Resolves once the server has started `count` calls of `method` in all (by its own
 * `grpc_server_started_total`), so that a test knows they are in flight: concurrent
 * discoveries of one cluster share one request to the cloud, so the fake cloud sees
 * only the first of them.
 */
async function callsStarted(metricsUrl: string, method: string, count: number, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const scrape = (await httpGet(`${metricsUrl}/metrics`)).body;
    const started = sample(scrape, "grpc_server_started_total", { grpc_method: method }) ?? 0;
    if (started >= count) return;
    if (performance.now() > deadline) throw new Error(`${started} of ${count} ${method} calls started within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("cluster-token serve: metrics, Kubernetes-style shutdown and live reload", () => {
  let eks: FakeServer;
  before(async () => {
    eks = await startFakeEks({
      region: "us-west-2",
      keys: new Map([[testAwsKeys.accessKeyId, { secretAccessKey: testAwsKeys.secretAccessKey }]]),
      clusters: { slow: { endpoint: "https://slow.eks.example.com", caData: testCaData } },
    });
  });
  after(() => eks.close());

  /** The test config plus a metrics listener and a cluster whose discovery goes to the fake EKS. */
  function config(extra: Record<string, unknown> = {}): Record<string, unknown> {
    const raw = rawTestConfig() as { listen: Record<string, string>; clusters: unknown[] };
    raw.listen.metrics = "127.0.0.1:0";
    raw.listen.health = "127.0.0.1:0";
    raw.clusters.push({
      id: "slow-eks",
      provider: "aws",
      region: "us-west-2",
      name: "slow",
      credentials: "aws-test",
      apiEndpoint: eks.url,
    });
    return { ...raw, discovery: { cacheTtlSeconds: 0 }, publicUrl: "http://127.0.0.1:1", ...extra };
  }

  it("serves /metrics with go-grpc-prometheus RPC metrics, upstream and cache metrics, and /healthz and /readyz", async () => {
    const svc = await startServeProcess(config(), { env: childEnv });
    try {
      const metricsUrl = `http://${String((await svc.waitForLine((l) => l.msg === "serving")).metrics)}`;
      const client = createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${svc.grpc}` }));
      await client.generateToken({ clusterId: "demo-eks" });
      await client.generateToken({ clusterId: "demo-eks" });
      await client.generateToken({ clusterId: "nope-eks" }).catch(() => undefined);
      await client.getKubeconfig({ clusterId: "slow-eks", mode: KubeconfigMode.EXEC });
      const scrape = await httpGet(`${metricsUrl}/metrics`);
      assert.equal(scrape.status, 200);
      assert.match(scrape.type ?? "", /^text\/plain; version=0\.0\.4/);
      const rpc = { grpc_type: "unary", grpc_service: "clustertoken.v1.ClusterTokenService", grpc_method: "GenerateToken" };
      assert.equal(sample(scrape.body, "grpc_server_started_total", rpc), 3);
      assert.equal(sample(scrape.body, "grpc_server_handled_total", { ...rpc, grpc_code: "OK" }), 2);
      assert.equal(sample(scrape.body, "grpc_server_handled_total", { ...rpc, grpc_code: "NotFound" }), 1);
      assert.equal(sample(scrape.body, "grpc_server_handling_seconds_count", rpc), 3);
      assert.equal(sample(scrape.body, "cluster_token_token_cache_requests_total", { result: "hit" }), 1);
      assert.equal(sample(scrape.body, "cluster_token_token_cache_requests_total", { result: "miss" }), 1);
      assert.equal(
        sample(scrape.body, "cluster_token_upstream_seconds_count", { provider: "aws", operation: "discovery", outcome: "ok" }),
        1,
      );
      assert.equal(sample(scrape.body, "cluster_token_audit_write_seconds_count"), 3, "two tokens and a kubeconfig were audited");
      assert.ok((sample(scrape.body, "process_cpu_seconds_total") ?? 0) > 0, "prom-client's default process metrics");
      assert.ok(!/k8s-aws-v1|AKIA/.test(scrape.body), "no token or key id in the metrics");
      assert.deepEqual(await httpGet(`${metricsUrl}/healthz`).then((r) => r.status), 200);
      assert.deepEqual(await httpGet(`${metricsUrl}/readyz`).then((r) => r.status), 200);
      assert.equal((await httpGet(`${metricsUrl}/nope`)).status, 404);
      const probePort = createGrpcTransport({ baseUrl: `http://${String((await svc.waitForLine((l) => l.msg === "serving")).health)}` });
      assert.equal((await createClient(Health, probePort).check({ service: "" })).status, HealthCheckResponse_ServingStatus.SERVING);
      const notHere = await createClient(ClusterTokenService, probePort)
        .listClusters({})
        .catch((e: unknown) => ConnectError.from(e));
      assert.equal((notHere as ConnectError).code, Code.Unimplemented, "the plaintext probe port serves health and nothing else");
    } finally {
      svc.child.kill("SIGKILL");
      await svc.exited();
    }
  });

  it("SIGTERM: NOT_SERVING at once, calls in flight and calls arriving during the drain delay all succeed, then exit 0 within the grace period", async () => {
    const drainDelaySeconds = 2;
    const graceSeconds = 5;
    const svc = await startServeProcess(config({ shutdown: { drainDelaySeconds, graceSeconds } }), { env: childEnv });
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
    const svc = await startServeProcess(config({ shutdown: { drainDelaySeconds: 1, graceSeconds: 5 } }), { env: childEnv });
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
    const svc = await startServeProcess(config({ shutdown: { drainDelaySeconds: 30, graceSeconds: 5 } }), { env: childEnv });
    const signalled = performance.now();
    svc.child.kill("SIGINT");
    assert.deepEqual(await svc.exited(), { code: 0, signal: null });
    assert.ok(performance.now() - signalled < 5_000);
  });

  it("SIGHUP: applies a valid change, refuses a broken file and a changed listen address, and keeps serving the last good config", async () => {
    const raw = config();
    const svc = await startServeProcess(raw, { env: childEnv });
    const metricsUrl = `http://${String((await svc.waitForLine((l) => l.msg === "serving")).metrics)}`;
    const client = createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${svc.grpc}` }));
    const ids = async () => (await client.listClusters({})).clusters.map((c) => c.id);
    const hangUp = async (content: string, expect: (line: Record<string, unknown>) => boolean) => {
      const before = svc.lines().length;
      await writeFile(svc.configFile, content);
      svc.child.kill("SIGHUP");
      return svc.waitForLine(expect, 20_000, before);
    };
    try {
      assert.deepEqual(await ids(), ["demo-eks", "no-endpoint", "slow-eks"]);
      const added = {
        ...raw,
        clusters: [
          ...(raw.clusters as unknown[]),
          {
            id: "added-eks",
            provider: "aws",
            region: "us-west-2",
            name: "added",
            credentials: "aws-test",
            endpoint: "https://added.example.com",
            certificateAuthorityData: testCaData,
          },
        ],
      };
      await hangUp(stringify(added), (l) => l.msg === "config reloaded");
      assert.deepEqual(await ids(), ["added-eks", "demo-eks", "no-endpoint", "slow-eks"], "a valid change is applied");

      const broken = await hangUp("clusters: [ {id: x", (l) => l.msg === "config reload refused; the running config stays");
      assert.match(JSON.stringify(broken.problems), /YAML/);
      const invalid = await hangUp(stringify({ ...added, clusters: [{ id: "BAD ID" }] }), (l) =>
        String(l.msg).startsWith("config reload refused"),
      );
      assert.ok((invalid.problems as string[]).length >= 2, "every problem is logged");
      assert.deepEqual(await ids(), ["added-eks", "demo-eks", "no-endpoint", "slow-eks"], "the last good config keeps serving");

      const moved = { ...added, listen: { ...(raw.listen as object), grpc: "127.0.0.1:1" } };
      const refused = await hangUp(stringify(moved), (l) => String(l.msg).startsWith("config reload refused"));
      assert.match(JSON.stringify(refused.problems), /listen cannot change while running/);
      assert.deepEqual((await ids()).length, 4);

      const scrape = (await httpGet(`${metricsUrl}/metrics`)).body;
      assert.equal(sample(scrape, "cluster_token_config_reloads_total", { result: "success" }), 1);
      assert.equal(sample(scrape, "cluster_token_config_reloads_total", { result: "failure" }), 3);
    } finally {
      svc.child.kill("SIGKILL");
      await svc.exited();
    }
  });

  it("keeps a call in flight on the config it started with across a reload", async () => {
    const raw = config();
    const svc = await startServeProcess(raw, { env: childEnv });
    const client = createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${svc.grpc}` }));
    eks.fault = { hold: true };
    try {
      const base = eks.requests.length;
      const inFlight = client.getKubeconfig({ clusterId: "slow-eks", mode: KubeconfigMode.EXEC });
      await eks.received(base + 1);
      const without = { ...raw, clusters: (raw.clusters as { id: string }[]).filter((c) => c.id !== "slow-eks") };
      await writeFile(svc.configFile, stringify(without));
      svc.child.kill("SIGHUP");
      await svc.waitForLine((l) => l.msg === "config reloaded");
      assert.equal(await eks.release(), 1);
      assert.match((await inFlight).kubeconfig, /slow\.eks\.example\.com/, "the call finished on the config it started with");
      const after = await client
        .getKubeconfig({ clusterId: "slow-eks", mode: KubeconfigMode.EXEC })
        .catch((e: unknown) => ConnectError.from(e));
      assert.equal((after as ConnectError).code, Code.NotFound, "later calls see the new config");
    } finally {
      eks.fault = undefined;
      await eks.release();
      svc.child.kill("SIGKILL");
      await svc.exited();
    }
  });

  it("SIGHUP waits for a config file written in two parts: the first part alone, a valid config cut at a line, is never applied", async () => {
    const raw = config();
    const svc = await startServeProcess(raw, { env: childEnv });
    const client = createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${svc.grpc}` }));
    const cluster = (id: string) => ({
      id,
      provider: "aws",
      region: "us-west-2",
      name: id,
      credentials: "aws-test",
      endpoint: `https://${id}.example.com`,
      certificateAuthorityData: testCaData,
    });
    const whole = stringify({ ...raw, clusters: [...(raw.clusters as unknown[]), cluster("added-one"), cluster("added-two")] });
    const cut = whole.lastIndexOf("\n", whole.indexOf("id: added-two")) + 1;
    const [firstPart, rest] = [whole.slice(0, cut), whole.slice(cut)];
    assert.equal(testConfig(parse(firstPart)).clusters.length, 4, "the first part alone is a valid config that lacks a cluster");
    try {
      const before = svc.lines().length;
      await writeFile(svc.configFile, firstPart);
      svc.child.kill("SIGHUP");
      const waiting = await svc.waitForLine((l) => String(l.msg).startsWith("config file changed just now"), 5_000, before);
      assert.equal(waiting.config, svc.configFile);
      await appendFile(svc.configFile, rest);
      await svc.waitForLine((l) => l.msg === "config reloaded", 15_000, before);
      assert.deepEqual(
        (await client.listClusters({})).clusters.map((c) => c.id),
        ["added-one", "added-two", "demo-eks", "no-endpoint", "slow-eks"],
        "the whole file was applied",
      );
      const reloads = svc
        .lines()
        .slice(before)
        .filter((l) => l.msg === "config reloaded" || String(l.msg).startsWith("config reload refused"));
      assert.equal(reloads.length, 1, "one reload, of the whole file");
    } finally {
      svc.child.kill("SIGKILL");
      await svc.exited();
    }
  });
});
