import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ClusterTokenService, KubeconfigMode } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";
import type { FakeServer } from "../fakes/fake-http-server.js";
import { sample } from "../support/metric-sample.js";
import { startServeProcess } from "../support/serve-process.js";
import { httpGet, slowEksConfig, startSlowEks } from "../support/serve-lifecycle.js";
import { testAwsEnv } from "../support/test-config.js";

describe("cluster-token serve: metrics and probes", () => {
  let eks: FakeServer;
  before(async () => {
    eks = await startSlowEks();
  });
  after(() => eks.close());
  const config = (extra: Record<string, unknown> = {}) => slowEksConfig(eks.url, extra);

  it("serves /metrics with go-grpc-prometheus RPC metrics, upstream and cache metrics, and /healthz and /readyz", async () => {
    const svc = await startServeProcess(config(), { env: testAwsEnv });
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
});
