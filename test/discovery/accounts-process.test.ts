import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { after, before, beforeEach, describe, it } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { stringify } from "yaml";
import { ClusterTokenService } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";
import { type FakeEks, startFakeEks } from "../fakes/fake-eks.js";
import { expectError } from "../support/error-info.js";
import { type ServeProcess, whileServing } from "../support/serve-process.js";
import { rawTestConfig, testAwsKeys, testCaData, testAwsEnv } from "../support/test-config.js";

const added = "discovered cluster added";

/** Account discovery on `cluster-token serve` itself, against the fake EKS and Tagging API. */
describe("accounts on the real process", () => {
  let eks: FakeEks;
  before(async () => {
    eks = await startFakeEks({
      region: "us-west-2",
      regions: { "eu-west-1": {} },
      keys: new Map([[testAwsKeys.accessKeyId, { secretAccessKey: testAwsKeys.secretAccessKey }]]),
      clusters: {},
    });
  });
  after(() => eks.close());

  /** One base for every config of a test: a reload may not change the audit file. */
  let base = rawTestConfig() as { clusters: unknown[] };
  beforeEach(() => {
    base = rawTestConfig() as { clusters: unknown[] };
  });

  /** The test config (its configured cluster demo-eks) with account acme listing both regions of the fake. */
  function config(account: Record<string, unknown> = {}, more: Record<string, unknown> = {}): Record<string, unknown> {
    const raw = base;
    return {
      ...raw,
      clusters: raw.clusters.slice(0, 1),
      accounts: [
        { id: "acme", provider: "aws", credentials: "aws-test", regions: ["us-west-2", "eu-west-1"], apiEndpoint: eks.url, ...account },
      ],
      ...more,
    };
  }

  /** Resolves once `count` lines from line `from` on satisfy `match`. */
  async function lines(svc: ServeProcess, match: (line: Record<string, unknown>) => boolean, count: number, from = 0) {
    await svc.waitForLine(() => svc.lines().slice(from).filter(match).length >= count, 20_000, from);
    return svc.lines().slice(from).filter(match);
  }

  const serving = (raw: Record<string, unknown>, test: (svc: ServeProcess, client: ReturnType<typeof clientOf>) => Promise<void>) =>
    whileServing(
      raw,
      { env: testAwsEnv },
      (svc) => test(svc, clientOf(svc)),
      async () => {
        eks.fault = undefined;
        await eks.release();
        eks.reset();
      },
    );
  const clientOf = (svc: ServeProcess) => createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${svc.grpc}` }));
  const ids = async (client: ReturnType<typeof clientOf>) => (await client.listClusters({})).clusters.map((c) => `${c.id}@${c.source}`);
  const eksCluster = (name: string, tags: Record<string, string> = {}) => ({
    endpoint: `https://${name}.eks.example.com`,
    caData: testCaData,
    tags,
  });

  it("SIGHUP keeps the discovered clusters of an unchanged account, without listing it again; a changed account is listed anew", async () => {
    eks.addCluster("us-west-2", "web", eksCluster("web", { env: "prod" }));
    eks.addCluster("us-west-2", "api", eksCluster("api", { env: "dev" }));
    eks.addCluster("eu-west-1", "db", eksCluster("db", { env: "prod" }));
    await serving(config(), async (svc, client) => {
      await lines(svc, (l) => l.msg === added, 3);
      const expected = ["api.us-west-2.acme@acme", "db.eu-west-1.acme@acme", "demo-eks@config", "web.us-west-2.acme@acme"];
      assert.deepEqual(await ids(client), expected);
      const listed = { ...eks.calls };
      // Another cluster and another log level: the account and its credentials stay as they were.
      await writeFile(svc.configFile, stringify(config({}, { logging: { level: "debug" } })));
      const from = svc.lines().length;
      svc.child.kill("SIGHUP");
      const [configured] = await lines(svc, (l) => l.msg === "accounts configured", 1, from);
      assert.deepEqual([configured?.kept, configured?.started, configured?.restarted, configured?.stopped], [1, 0, 0, 0]);
      await lines(svc, (l) => l.msg === "config reloaded", 1, from);
      assert.deepEqual(await ids(client), expected, "no gap");
      assert.deepEqual(eks.calls, listed, "no listing");
      assert.equal((await client.generateToken({ clusterId: "web.us-west-2.acme" })).kind, "ExecCredential");

      await writeFile(svc.configFile, stringify(config({ tags: { env: "prod" } })));
      const next = svc.lines().length;
      svc.child.kill("SIGHUP");
      const [restarted] = await lines(svc, (l) => l.msg === "accounts configured", 1, next);
      assert.equal(restarted?.restarted, 1);
      await lines(svc, (l) => l.msg === "discovered cluster removed", 1, next);
      assert.deepEqual(await ids(client), ["db.eu-west-1.acme@acme", "demo-eks@config", "web.us-west-2.acme@acme"]);
      assert.ok(eks.calls.GetResources > listed.GetResources, "the changed account was listed again");
    });
  });

  it("stays ready through a cloud outage: health SERVING and configured clusters served while every listing hangs", async () => {
    eks.addCluster("us-west-2", "web", eksCluster("web"));
    eks.fault = { hold: true };
    const before = eks.requests.length;
    await serving(config(), async (svc, client) => {
      await eks.received(before + 2);
      const health = createClient(Health, createGrpcTransport({ baseUrl: `http://${svc.grpc}` }));
      assert.equal((await health.check({ service: "" })).status, HealthCheckResponse_ServingStatus.SERVING);
      assert.equal((await client.generateToken({ clusterId: "demo-eks" })).kind, "ExecCredential");
      assert.deepEqual(await ids(client), ["demo-eks@config"]);
      eks.fault = undefined;
      await eks.release();
      await lines(svc, (l) => l.msg === added, 1);
      assert.deepEqual(await ids(client), ["demo-eks@config", "web.us-west-2.acme@acme"]);
    });
  });

  it("serves a cluster created after the last poll at once, with one DescribeCluster, and a deleted id as NOT_FOUND", async () => {
    const before = eks.requests.length;
    await serving(config(), async (_svc, client) => {
      await eks.received(before + 4);
      eks.addCluster("eu-west-1", "fresh", eksCluster("fresh"));
      const describedBefore = eks.calls.DescribeCluster;
      assert.match(
        (await client.getKubeconfig({ clusterId: "fresh.eu-west-1.acme" })).kubeconfig,
        /server: https:\/\/fresh\.eks\.example\.com/,
      );
      assert.equal((await client.generateToken({ clusterId: "fresh.eu-west-1.acme" })).kind, "ExecCredential");
      assert.equal(eks.calls.DescribeCluster - describedBefore, 1, "one lookup, which brings the endpoint and CA too");
      const missing = await expectError(client.generateToken({ clusterId: "gone.eu-west-1.acme" }), Code.NotFound);
      assert.equal(missing.info.reason, "CLUSTER_NOT_FOUND");
      await expectError(client.generateToken({ clusterId: "gone.eu-west-1.acme" }), Code.NotFound);
      assert.equal(eks.calls.DescribeCluster - describedBefore, 2, "an unknown id is asked once, then answered from memory");
    });
  });
});
