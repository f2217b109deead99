import assert from "node:assert/strict";
import { appendFile, writeFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { parse, stringify } from "yaml";
import { ClusterTokenService, KubeconfigMode } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import type { FakeServer } from "../fakes/fake-http-server.js";
import { sample } from "../support/metric-sample.js";
import { startServeProcess } from "../support/serve-process.js";
import { httpGet, slowEksConfig, startSlowEks } from "../support/serve-lifecycle.js";
import { testCaData, testConfig, testAwsEnv } from "../support/test-config.js";

describe("cluster-token serve: live reload", () => {
  let eks: FakeServer;
  before(async () => {
    eks = await startSlowEks();
  });
  after(() => eks.close());
  const config = (extra: Record<string, unknown> = {}) => slowEksConfig(eks.url, extra);

  it("SIGHUP: applies a valid change, refuses a broken file and a changed listen address, and keeps serving the last good config", async () => {
    const raw = config();
    const svc = await startServeProcess(raw, { env: testAwsEnv });
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
    const svc = await startServeProcess(raw, { env: testAwsEnv });
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
    const svc = await startServeProcess(raw, { env: testAwsEnv });
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
