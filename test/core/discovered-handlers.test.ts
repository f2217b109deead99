import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import {
  type Cluster,
  GenerateTokenRequestSchema,
  GetKubeconfigRequestSchema,
  ListClustersRequestSchema,
} from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { AccessPolicy, type Grant } from "../../src/auth/access-policy.js";
import type { CallContext } from "../../src/core/call-context.js";
import { unwrapFailure } from "../../src/core/call-context.js";
import { ClusterAccessResolver } from "../../src/core/cluster-access-resolver.js";
import { ClusterRegistry } from "../../src/core/cluster-registry.js";
import { createClusterTokenHandlers } from "../../src/core/cluster-token-handlers.js";
import { ServiceError } from "../../src/errors/service-error.js";
import { clusterPlacement } from "../../src/providers.js";
import { DiscoveryFixture, withAccess } from "../support/discovery-fixture.js";
import type { RegisteredCluster } from "../../src/core/registered-cluster.js";
import { InMemoryTokenDriver } from "../support/in-memory-driver.js";
import { testCaData } from "../support/test-config.js";

let fixture: DiscoveryFixture;
afterEach(() => fixture?.close());

const ctx = (principal = "anonymous"): CallContext => ({
  transport: "grpc",
  requestId: "test",
  signal: new AbortController().signal,
  deadline: Date.now() + 30_000,
  principal: { name: principal, kind: "key" },
});

/** The in-memory driver, recording the credentials entry (the identity) of every cluster it mints for. */
class IdentityRecordingDriver extends InMemoryTokenDriver {
  readonly identities: string[] = [];
  override mintToken(cluster: RegisteredCluster, signal: AbortSignal) {
    this.identities.push(cluster.credentials);
    return super.mintToken(cluster, signal);
  }
}

/** An AWS credentials entry of the test config's keys: an identity grants may give. */
const awsEntry = {
  provider: "aws",
  accessKeyId: { env: "CTS_TEST_AWS_ACCESS_KEY_ID" },
  secretAccessKey: { env: "CTS_TEST_AWS_SECRET_ACCESS_KEY" },
};

/**
 * Handlers over configured cluster `static-eks` and the discovered clusters of account acme (us-west-2, eu-west-1),
 * whose own credentials are `aws-test`; `aws-ro` and `aws-deploy` are further identities grants may give.
 */
async function setUp(grants?: Grant[]) {
  fixture = new DiscoveryFixture();
  fixture.cloud.add("us-west-2", withAccess("web", { env: "prod", team: "pay" }), withAccess("dev", { env: "dev" }));
  fixture.cloud.add("eu-west-1", withAccess("db", { env: "prod" }));
  const config = fixture.config([{ id: "acme", regions: ["us-west-2", "eu-west-1"] }], {
    credentials: { "aws-test": awsEntry, "aws-ro": awsEntry, "aws-deploy": awsEntry },
    clusters: [
      {
        id: "static-eks",
        provider: "aws",
        region: "us-west-2",
        name: "static",
        credentials: "aws-test",
        labels: { env: "prod" },
        endpoint: "https://s.example.com",
        certificateAuthorityData: testCaData,
      },
    ],
  });
  await fixture.start(config, 2);
  const driver = new IdentityRecordingDriver();
  const drivers = { aws: { token: driver } };
  const handlers = createClusterTokenHandlers({
    placement: clusterPlacement,
    registry: ClusterRegistry.fromConfig(config.clusters, fixture.discovery),
    drivers,
    access: new ClusterAccessResolver(drivers, { ttlMs: 0 }),
    exec: { command: ["cluster-token"] },
    policy: grants ? AccessPolicy.fromGrants(grants, config.credentials) : AccessPolicy.allowAll(config.credentials),
  });
  const reasonOf = (call: Promise<unknown>) =>
    call.then(
      () => "OK",
      (err: unknown) => {
        const { error } = unwrapFailure(err);
        return error instanceof ServiceError ? error.reason : String(error);
      },
    );
  const token = (clusterId: string, principal?: string, identity = "") =>
    reasonOf(handlers.generateToken(create(GenerateTokenRequestSchema, { clusterId, identity }), ctx(principal)));
  const kubeconfig = (clusterId: string, principal?: string) =>
    reasonOf(handlers.getKubeconfig(create(GetKubeconfigRequestSchema, { clusterId }), ctx(principal)));
  const list = async (init: { filter?: string; pageSize?: number; pageToken?: string } = {}, principal?: string) =>
    (await handlers.listClusters(create(ListClustersRequestSchema, init), ctx(principal))).response as {
      clusters: Cluster[];
      nextPageToken: string;
    };
  return { handlers, driver, token, kubeconfig, list, reasonOf };
}

describe("calls for discovered clusters", () => {
  it("mint and render kubeconfigs for discovered clusters like configured ones", async () => {
    const { token, kubeconfig, driver } = await setUp();
    assert.equal(await token("web.us-west-2.acme"), "OK");
    assert.equal(await kubeconfig("db.eu-west-1.acme"), "OK");
    assert.equal(driver.minted, 2);
  });

  it("answer for a cluster created a moment ago with one lookup, then without one", async () => {
    const { token } = await setUp();
    fixture.cloud.add("eu-west-1", withAccess("fresh"));
    assert.equal(await token("fresh.eu-west-1.acme"), "OK");
    assert.equal(await token("fresh.eu-west-1.acme"), "OK");
    assert.equal(fixture.cloud.lookups.length, 1);
  });

  it("say NOT_FOUND for a deleted cluster once a complete listing no longer holds it", async () => {
    const { token } = await setUp();
    fixture.cloud.remove("us-west-2", "web");
    assert.equal(await token("web.us-west-2.acme"), "OK", "until the next listing");
    await fixture.poll(300_000, 2);
    assert.equal(await token("web.us-west-2.acme"), "CLUSTER_NOT_FOUND");
  });

  it("check the grants before any lookup: a caller no grant could allow makes no cloud call and learns nothing", async () => {
    const { token } = await setUp([{ principals: ["key:ci"], clusters: ["staging-*"], rpcs: ["GenerateToken"] }]);
    fixture.cloud.add("us-west-2", withAccess("exists"));
    assert.equal(await token("exists.us-west-2.acme", "key:ci"), "NOT_GRANTED");
    assert.equal(await token("missing.us-west-2.acme", "key:ci"), "NOT_GRANTED");
    assert.equal(fixture.cloud.lookups.length, 0);
  });

  it("allow by labels, and answer a label grant's holder PERMISSION_DENIED for a missing cluster as for one with other labels", async () => {
    const { token } = await setUp([
      { principals: ["key:pay"], clusterLabels: { env: "prod", team: "pay" }, rpcs: ["GenerateToken"] },
      { principals: ["key:prod"], clusterLabels: { env: "prod" }, rpcs: ["GenerateToken"] },
    ]);
    assert.equal(await token("web.us-west-2.acme", "key:pay"), "OK");
    assert.equal(await token("db.eu-west-1.acme", "key:pay"), "NOT_GRANTED", "labels that do not all match");
    assert.equal(await token("static-eks", "key:prod"), "OK", "configured labels count too");
    assert.equal(await token("dev.us-west-2.acme", "key:prod"), "NOT_GRANTED");
    assert.equal(await token("nothing.us-west-2.acme", "key:prod"), "NOT_GRANTED", "existence does not leak");
    assert.equal(await token("nothing-at-all", "key:prod"), "NOT_GRANTED");
  });

  it("tell an id grant's holder NOT_FOUND for an id no account has", async () => {
    const { token } = await setUp([{ principals: ["key:ops"], clusters: ["*.acme", "static-*"], rpcs: ["GenerateToken"] }]);
    assert.equal(await token("nothing.us-west-2.acme", "key:ops"), "CLUSTER_NOT_FOUND");
    assert.equal(await token("static-gone", "key:ops"), "CLUSTER_NOT_FOUND");
    assert.equal(fixture.cloud.lookups.length, 1, "one lookup, for the id an account's template reads");
  });
});

describe("cloud identities for discovered clusters", () => {
  it("mint a discovered cluster as the identity its grant gives, by id or by label", async () => {
    const { token, driver } = await setUp([
      { principals: ["key:ci"], clusters: ["*.acme"], rpcs: ["GenerateToken"], identities: ["aws-ro"] },
      { principals: ["key:pay"], clusterLabels: { team: "pay" }, rpcs: ["GenerateToken"], identities: ["aws-deploy"] },
    ]);
    assert.equal(await token("db.eu-west-1.acme", "key:ci"), "OK");
    assert.equal(await token("web.us-west-2.acme", "key:pay"), "OK");
    assert.deepEqual(driver.identities, ["aws-ro", "aws-deploy"]);
  });

  it("list both identities of a label grant and an id grant when none is named (IDENTITY_REQUIRED), and mint each when named", async () => {
    const { token, driver } = await setUp([
      { principals: ["key:ops"], clusters: ["*.acme"], rpcs: ["GenerateToken"], identities: ["aws-ro"] },
      { principals: ["key:ops"], clusterLabels: { env: "prod" }, rpcs: ["GenerateToken"], identities: ["aws-deploy"] },
    ]);
    assert.equal(await token("web.us-west-2.acme", "key:ops"), "IDENTITY_REQUIRED");
    assert.equal(await token("dev.us-west-2.acme", "key:ops"), "OK", "the label grant does not select dev: one identity");
    assert.equal(await token("web.us-west-2.acme", "key:ops", "aws-deploy"), "OK");
    assert.deepEqual(driver.identities, ["aws-ro", "aws-deploy"]);
  });

  it("mint as the account's own credentials when a grant without identities gives them and the caller names them", async () => {
    const { token, driver } = await setUp([{ principals: ["key:ops"], clusters: ["*.acme"], rpcs: ["GenerateToken"] }]);
    assert.equal(await token("web.us-west-2.acme", "key:ops", "aws-test"), "OK");
    assert.equal(await token("web.us-west-2.acme", "key:ops", "aws-ro"), "NOT_GRANTED");
    assert.deepEqual(driver.identities, ["aws-test"]);
  });

  it("deny an identity no grant gives before any lookup: an undiscovered id makes no cloud call", async () => {
    const { token } = await setUp([
      { principals: ["key:ci"], clusters: ["*.acme"], rpcs: ["GenerateToken"], identities: ["aws-ro"] },
      { principals: ["key:own"], clusters: ["*.acme"], rpcs: ["GenerateToken"] },
    ]);
    fixture.cloud.add("eu-west-1", withAccess("fresh"));
    assert.equal(await token("fresh.eu-west-1.acme", "key:ci", "nobody"), "NOT_GRANTED");
    assert.equal(await token("fresh.eu-west-1.acme", "key:ci", "aws-deploy"), "NOT_GRANTED", "an entry the grant does not give");
    assert.equal(await token("fresh.eu-west-1.acme", "key:own", "nobody"), "NOT_GRANTED", "no credentials entry of that name");
    assert.equal(fixture.cloud.lookups.length, 0);
    assert.equal(await token("fresh.eu-west-1.acme", "key:ci", "aws-ro"), "OK");
    assert.equal(fixture.cloud.lookups.length, 1);
  });
});

describe("ListClusters with discovered clusters", () => {
  it("lists configured and discovered clusters together, each with its source", async () => {
    const { list } = await setUp();
    const { clusters } = await list();
    assert.deepEqual(
      clusters.map((c) => [c.id, c.source, c.region, c.name, c.endpoint]),
      [
        ["db.eu-west-1.acme", "acme", "eu-west-1", "db", "https://db.example.com"],
        ["dev.us-west-2.acme", "acme", "us-west-2", "dev", "https://dev.example.com"],
        ["static-eks", "config", "us-west-2", "static", "https://s.example.com"],
        ["web.us-west-2.acme", "acme", "us-west-2", "web", "https://web.example.com"],
      ],
    );
    assert.deepEqual(clusters[3]?.labels, { env: "prod", team: "pay" });
  });

  it("filters by provider, region and labels, and pages with tokens bound to the filter", async () => {
    const { list, reasonOf, handlers } = await setUp();
    const ids = async (filter: string) => (await list({ filter })).clusters.map((c) => c.id);
    assert.deepEqual(await ids('labels.env = "prod"'), ["db.eu-west-1.acme", "static-eks", "web.us-west-2.acme"]);
    assert.deepEqual(await ids("region = us-west-2 AND labels.env = prod"), ["static-eks", "web.us-west-2.acme"]);
    assert.deepEqual(await ids("provider = gcp"), []);
    const first = await list({ filter: "labels.env = prod", pageSize: 1 });
    assert.deepEqual(
      first.clusters.map((c) => c.id),
      ["db.eu-west-1.acme"],
    );
    const second = await list({ filter: "labels.env = prod", pageSize: 1, pageToken: first.nextPageToken });
    assert.deepEqual(
      second.clusters.map((c) => c.id),
      ["static-eks"],
    );
    const other = (init: { filter: string; pageToken: string }) =>
      reasonOf(handlers.listClusters(create(ListClustersRequestSchema, { pageSize: 1, ...init }), ctx()));
    assert.equal(await other({ filter: "labels.env = dev", pageToken: first.nextPageToken }), "INVALID_PAGE_TOKEN");
    assert.equal(await other({ filter: "", pageToken: first.nextPageToken }), "INVALID_PAGE_TOKEN");
    assert.equal(await other({ filter: "provider = aws OR region = x", pageToken: "" }), "INVALID_FILTER");
  });

  it("lists only what the caller's grants select, by labels too", async () => {
    const { list } = await setUp([{ principals: ["key:pay"], clusterLabels: { team: "pay" }, rpcs: ["ListClusters"] }]);
    assert.deepEqual(
      (await list({}, "key:pay")).clusters.map((c) => c.id),
      ["web.us-west-2.acme"],
    );
  });
});
