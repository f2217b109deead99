import assert from "node:assert/strict";
import { get } from "node:http";
import { afterEach, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";
import type { ServiceConfig } from "../../src/config/config-schema.js";
import { CycleLog } from "../support/discovery-cycles.js";
import { rawAccountsConfig, withAccess } from "../support/discovery-fixture.js";
import { FakeScheduler } from "../support/fake-scheduler.js";
import { configWithAccounts, discoveringProviders, InMemoryCloud } from "../support/in-memory-lister.js";
import { type RunningService, startTestService } from "../support/running-service.js";
import { rawTestConfig } from "../support/test-config.js";

function metricsText(address: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(`http://${address}/metrics`, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => resolve(body));
    }).on("error", reject);
  });
}

/** The server with the test config's configured clusters and account acme of the in-memory cloud, on a fake scheduler. */
async function serving(accounts: Record<string, unknown>[] = [{ id: "acme", regions: ["us-west-2", "eu-west-1"] }]) {
  const cloud = new InMemoryCloud();
  const scheduler = new FakeScheduler();
  const cycles = new CycleLog();
  // One base for every config of the test: a reload may not change the audit file.
  const base = rawTestConfig();
  const raw = (list: Record<string, unknown>[], more: Record<string, unknown> = {}) =>
    rawAccountsConfig(list, { ...base, listen: { grpc: "127.0.0.1:0", http: "127.0.0.1:0", metrics: "127.0.0.1:0" }, ...more });
  const config = (list = accounts, more: Record<string, unknown> = {}) => configWithAccounts(cloud, raw(list, more));
  const first = config();
  const svc = await startTestService(first, {
    discoveryOptions: { providers: discoveringProviders(cloud), scheduler, random: () => 0.5, onCycle: cycles.record },
  });
  const ids = async () => (await svc.grpc.listClusters({})).clusters.map((c) => `${c.id}@${c.source}`);
  const reload = (next: ServiceConfig) => svc.server.reload(async () => next);
  return { cloud, scheduler, cycles, svc, ids, config, first, reload };
}

let svc: RunningService | undefined;
afterEach(async () => {
  await svc?.close();
  svc = undefined;
});

describe("discovery in the served process", () => {
  it("never holds readiness or configured clusters for a cloud: while every listing hangs, health is SERVING and configured clusters serve", async () => {
    const s = await serving();
    svc = s.svc;
    s.cloud.add("us-west-2", withAccess("web"));
    s.cloud.faults.set("us-west-2", { hold: true });
    s.cloud.faults.set("eu-west-1", { hold: true });
    s.scheduler.advance(0);
    const health = createClient(Health, createGrpcTransport({ baseUrl: svc.grpcUrl }));
    assert.equal((await health.check({ service: "" })).status, HealthCheckResponse_ServingStatus.SERVING);
    assert.equal((await svc.grpc.generateToken({ clusterId: "demo-eks" })).kind, "ExecCredential");
    assert.deepEqual(await s.ids(), ["demo-eks@config", "no-endpoint@config"]);
    const joined = s.cycles.next(2);
    s.cloud.faults.clear();
    s.cloud.release();
    await joined;
    assert.deepEqual(
      await s.ids(),
      ["demo-eks@config", "no-endpoint@config", "web.us-west-2.acme@acme"],
      "discovered clusters join as found",
    );
    assert.match((await svc.grpc.getKubeconfig({ clusterId: "web.us-west-2.acme" })).kubeconfig, /server: https:\/\/web\.example\.com/);
    const metrics = await metricsText(svc.server.metricsAddress ?? "");
    assert.match(metrics, /^cluster_token_discovered_clusters\{account="acme",scope="us-west-2"\} 1$/m);
  });

  it("keeps the discovered clusters of unchanged accounts across a reload, without listing again; applies a changed account", async () => {
    const s = await serving();
    svc = s.svc;
    s.cloud.add("us-west-2", withAccess("web", { env: "prod" }), withAccess("dev", { env: "dev" }));
    const first = s.cycles.next(2);
    s.scheduler.advance(0);
    await first;
    const listed = () => [...s.cloud.listings.values()].reduce((a, b) => a + b, 0);
    const before = listed();
    assert.deepEqual((await s.reload(s.config(undefined, { logging: { level: "debug" } }))).applied, true);
    s.scheduler.advance(0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(listed(), before, "no re-listing");
    assert.deepEqual(await s.ids(), ["demo-eks@config", "dev.us-west-2.acme@acme", "no-endpoint@config", "web.us-west-2.acme@acme"]);
    const restarted = s.cycles.next(2);
    assert.deepEqual(
      (await s.reload(s.config([{ id: "acme", regions: ["us-west-2", "eu-west-1"], tags: { env: "prod" } }]))).applied,
      true,
    );
    s.scheduler.advance(0);
    await restarted;
    assert.deepEqual(await s.ids(), ["demo-eks@config", "no-endpoint@config", "web.us-west-2.acme@acme"]);
  });

  it("leaves discovery as it is when a reload is refused", async () => {
    const s = await serving();
    svc = s.svc;
    s.cloud.add("us-west-2", withAccess("web"));
    const first = s.cycles.next(2);
    s.scheduler.advance(0);
    await first;
    const refused = s.config([], { listen: { grpc: "127.0.0.1:1", http: "127.0.0.1:0" } });
    assert.deepEqual((await s.reload(refused)).applied, false);
    assert.deepEqual(await s.ids(), ["demo-eks@config", "no-endpoint@config", "web.us-west-2.acme@acme"]);
  });
});
