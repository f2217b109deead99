import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { stringify } from "yaml";
import { ClusterTokenService } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { startFakeEks } from "../fakes/fake-eks.js";
import type { FakeServer } from "../fakes/fake-http-server.js";
import { expectError } from "../support/error-info.js";
import { type ServeProcess, whileServing } from "../support/serve-process.js";
import { rawTestConfig, testAwsKeys, testCaData, testAwsEnv } from "../support/test-config.js";

const endpoints = { found: "https://found.eks.example.com", other: "https://other.eks.example.com" };

/** Stale-if-error on `cluster-token serve` itself: what a 404 ends, what ListClusters shows, what a reload keeps. */
describe("discovery's stale rules on the real process", () => {
  let eks: FakeServer;
  before(async () => {
    eks = await startFakeEks({
      region: "us-west-2",
      keys: new Map([[testAwsKeys.accessKeyId, { secretAccessKey: testAwsKeys.secretAccessKey }]]),
      clusters: { found: { endpoint: endpoints.found, caData: testCaData }, other: { endpoint: endpoints.other, caData: testCaData } },
    });
  });
  after(() => eks.close());

  /** The test config with two clusters discovered through the fake EKS; every call asks it again (TTL 0). */
  function config(maxStaleSeconds: number): Record<string, unknown> {
    const raw = rawTestConfig() as { clusters: unknown[] };
    const discovered = (name: keyof typeof endpoints, displayName: string) => ({
      id: name,
      provider: "aws",
      region: "us-west-2",
      name,
      displayName,
      credentials: "aws-test",
      apiEndpoint: eks.url,
    });
    raw.clusters = [discovered("found", "Found"), discovered("other", "Other")];
    return { ...raw, discovery: { cacheTtlSeconds: 0, maxStaleSeconds } };
  }

  const serving = (raw: Record<string, unknown>, test: (svc: ServeProcess, client: ReturnType<typeof clientOf>) => Promise<void>) =>
    whileServing(
      raw,
      { env: testAwsEnv },
      (svc) => test(svc, clientOf(svc)),
      () => {
        eks.fault = undefined;
      },
    );
  const clientOf = (svc: ServeProcess) => createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${svc.grpc}` }));
  const listed = async (client: ReturnType<typeof clientOf>, id: string) =>
    (await client.listClusters({})).clusters.find((c) => c.id === id)?.endpoint;

  it("a 404 ends stale serving until a discovery succeeds: a 503 after it is UNAVAILABLE, and ListClusters hides the endpoint", async () => {
    await serving(config(3600), async (_svc, client) => {
      assert.match((await client.getKubeconfig({ clusterId: "found" })).kubeconfig, /server: https:\/\/found\.eks\.example\.com/);
      eks.fault = { status: 503, body: "" };
      assert.match((await client.getKubeconfig({ clusterId: "found" })).kubeconfig, /found\.eks\.example\.com/, "stale while down");
      eks.fault = { status: 404, body: "{}", contentType: "application/json" };
      assert.equal((await expectError(client.getKubeconfig({ clusterId: "found" }), Code.NotFound)).info.reason, "UPSTREAM_NOT_FOUND");
      assert.equal(await listed(client, "found"), "", "the deleted cluster's endpoint is not listed");
      eks.fault = { status: 503, body: "" };
      const after404 = await expectError(client.getKubeconfig({ clusterId: "found" }), Code.Unavailable);
      assert.equal(after404.info.reason, "UPSTREAM_UNAVAILABLE", "the old endpoint of a deleted cluster is not served again");
      eks.fault = undefined;
      await client.getKubeconfig({ clusterId: "found" });
      eks.fault = { status: 503, body: "" };
      assert.match((await client.getKubeconfig({ clusterId: "found" })).kubeconfig, /found\.eks\.example\.com/, "a success restores it");
    });
  });

  it("ListClusters stops showing a discovered endpoint once maxStaleSeconds have passed", async () => {
    await serving(config(1), async (_svc, client) => {
      await client.getKubeconfig({ clusterId: "found" });
      const deadline = Date.now() + 10_000;
      let endpoint = await listed(client, "found");
      while (endpoint !== "" && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        endpoint = await listed(client, "found");
      }
      assert.equal(endpoint, "", "an endpoint discovered with a 0 s TTL and a 1 s stale window is hidden within 10 s");
    });
  });

  it("a reload keeps the discoveries of clusters whose config did not change", async () => {
    const raw = config(3600);
    await serving(raw, async (svc, client) => {
      await client.getKubeconfig({ clusterId: "found" });
      await client.getKubeconfig({ clusterId: "other" });
      eks.fault = { status: 503, body: "" };
      const from = svc.lines().length;
      const clusters = (raw.clusters as Record<string, unknown>[]).map((c) =>
        c.id === "other" ? { ...c, displayName: "Other, renamed" } : c,
      );
      await writeFile(svc.configFile, stringify({ ...raw, clusters }));
      svc.child.kill("SIGHUP");
      await svc.waitForLine((l) => l.msg === "config reloaded", 20_000, from);
      assert.match(
        (await client.getKubeconfig({ clusterId: "found" })).kubeconfig,
        /found\.eks\.example\.com/,
        "unchanged: its last known endpoint is still served while EKS is down",
      );
      assert.equal(await listed(client, "found"), endpoints.found);
      const changed = await expectError(client.getKubeconfig({ clusterId: "other" }), Code.Unavailable);
      assert.equal(changed.info.reason, "UPSTREAM_UNAVAILABLE", "a changed entry starts afresh");
    });
  });
});
