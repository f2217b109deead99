import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { HttpRequest } from "@smithy/core/protocols";
import { Hash } from "@smithy/core/serde";
import { SignatureV4 } from "@smithy/signature-v4";
import type { ClusterOf } from "../../../src/core/registered-cluster.js";
import { taggingEndpoint } from "../../../src/drivers/aws/tagging-api.js";
import { startFakeServer } from "../../fakes/fake-http-server.js";
import { serviceFailure } from "../../support/service-failure.js";
import { testCaData } from "../../support/test-config.js";
import { type EksListerFixture, listerKeys, startEksListerFixture } from "./eks-lister-fixture.js";

const never = () => new AbortController().signal;
const names = (listed: readonly { name: string }[]) => listed.map((c) => c.name).sort();
const numbered = (count: number) => Array.from({ length: count }, (_, i) => `c${String(i).padStart(3, "0")}`);
const tagged = (tags: Record<string, string>) => ({ endpoint: "https://x.gr7.us-west-2.eks.amazonaws.com", caData: testCaData, tags });

describe("EKS lister: what a poll asks AWS, and what it makes of the answers", () => {
  let f: EksListerFixture;
  before(async () => {
    f = await startEksListerFixture();
  });
  after(() => f.close());
  beforeEach(() => f.eks.reset());

  const counts = () => ({ ...f.eks.calls });
  const since = (before: Record<string, number>) =>
    Object.fromEntries(Object.entries(f.eks.calls).map(([api, n]) => [api, n - (before[api] ?? 0)]));

  it("costs ⌈N / 100⌉ ListClusters and ⌈T / 100⌉ GetResources for a region of N clusters, T of them tagged; with tags, GetResources alone", async () => {
    for (const name of numbered(250)) f.eks.addCluster("us-west-2", name, tagged({ env: "prod" }));
    const lister = f.lister();
    await lister.listScope(f.account, "us-west-2", never()); // credentials assumed; the steady poll is the next one
    const before = counts();
    assert.equal((await lister.listScope(f.account, "us-west-2", never())).length, 250);
    assert.deepEqual(since(before), { ListClusters: 3, DescribeCluster: 0, GetResources: 3 });
    const filteredBefore = counts();
    assert.equal((await lister.listScope({ ...f.account, tags: { env: "prod" } }, "us-west-2", never())).length, 250);
    assert.deepEqual(since(filteredBefore), { ListClusters: 0, DescribeCluster: 0, GetResources: 3 });
    const listRequest = f.eks.requests.find((r) => r.url.pathname === "/clusters");
    assert.equal(listRequest?.url.searchParams.get("maxResults"), "100");
  });

  it("sends GetResources as AWS JSON 1.1, for eks:cluster, 100 a page, one tag filter per key of the account", async () => {
    f.eks.addCluster("eu-west-1", "prod-a", tagged({ env: "prod", team: "a" }));
    const account = { ...f.account, tags: { env: "prod", team: "a" } };
    assert.deepEqual(names(await f.lister().listScope(account, "eu-west-1", never())), ["prod-a"]);
    const request = f.eks.requests.findLast((r) => r.method === "POST")!;
    assert.equal(request.headers["x-amz-target"], "ResourceGroupsTaggingAPI_20170126.GetResources");
    assert.equal(request.headers["content-type"], "application/x-amz-json-1.1");
    assert.deepEqual(JSON.parse(request.body.toString()), {
      ResourceTypeFilters: ["eks:cluster"],
      ResourcesPerPage: 100,
      TagFilters: [
        { Key: "env", Values: ["prod"] },
        { Key: "team", Values: ["a"] },
      ],
    });
  });

  it("takes membership from ListClusters: a cluster never tagged, or whose tags were all removed, is listed without labels", async () => {
    f.eks.addCluster("us-west-2", "never-tagged", { endpoint: "https://n.example.com", caData: testCaData });
    f.eks.addCluster("us-west-2", "untagged", tagged({ env: "dev" }));
    f.eks.addCluster("us-west-2", "untagged", tagged({}));
    f.eks.addCluster("us-west-2", "tagged", tagged({ env: "prod" }));
    const listed = await f.lister().listScope(f.account, "us-west-2", never());
    assert.deepEqual(listed.map(({ name, labels }) => [name, labels]).sort(), [
      ["never-tagged", {}],
      ["tagged", { env: "prod" }],
      ["untagged", {}],
    ]);
  });

  it("rejects the listing when GetResources fails on page 2, however complete ListClusters was", async () => {
    for (const name of numbered(150)) f.eks.addCluster("us-west-2", name, tagged({ env: "prod" }));
    f.eks.failPage("GetResources", "us-west-2", 2, { status: 500, body: "{}", contentType: "application/x-amz-json-1.1" });
    const err = await serviceFailure(f.lister().listScope(f.account, "us-west-2", never()));
    assert.equal(err.reason, "UPSTREAM_UNAVAILABLE");
    assert.equal(err.metadata.operation, "tag:GetResources");
    assert.deepEqual(err.metadata, { provider: "aws", operation: "tag:GetResources", account_id: "acme", scope: "us-west-2" });
  });

  for (const [type, reason] of [
    ["ThrottledException", "UPSTREAM_THROTTLED"],
    ["AccessDeniedException", "UPSTREAM_PERMISSION_DENIED"],
    ["UnrecognizedClientException", "UPSTREAM_PERMISSION_DENIED"],
    ["InvalidParameterException", "UPSTREAM_REJECTED"],
  ] as const) {
    it(`reads a 400 ${type} from the Tagging API's body as ${reason}`, async () => {
      const body = JSON.stringify({ __type: `com.amazonaws.resourcegroupstaggingapi#${type}`, Message: "no" });
      f.eks.failPage("GetResources", "us-west-2", 1, { status: 400, body, contentType: "application/x-amz-json-1.1" });
      assert.equal((await serviceFailure(f.lister().listScope(f.account, "us-west-2", never()))).reason, reason);
    });
  }

  it("assumes the account's role once for the token driver and the lister", async () => {
    const drivers = f.drivers();
    const before = f.sts.assumeRoleCalls.length;
    const cluster: ClusterOf<"aws"> = {
      id: "prod",
      provider: "aws",
      region: "us-west-2",
      name: "prod",
      displayName: "",
      labels: {},
      credentials: "lister",
    };
    await drivers.token!.mintToken(cluster as never, never());
    await drivers.lister!.listScope(f.account as never, "us-west-2", never());
    await drivers.lister!.lookup(f.account as never, "prod", "us-west-2", never());
    assert.equal(f.sts.assumeRoleCalls.length - before, 1);
  });

  it("looks up by DescribeCluster: endpoint and CA once ACTIVE, none while CREATING; a region outside the account costs nothing", async () => {
    f.eks.addCluster("us-west-2", "ready", { endpoint: "https://READY.gr7.us-west-2.eks.amazonaws.com", caData: testCaData });
    f.eks.addCluster("us-west-2", "creating", { endpoint: "", caData: "", status: "CREATING" });
    const lister = f.lister();
    assert.deepEqual((await lister.lookup(f.account, "ready", "us-west-2", never()))?.entry, {
      region: "us-west-2",
      name: "ready",
      endpoint: "https://READY.gr7.us-west-2.eks.amazonaws.com",
      certificateAuthorityData: testCaData,
    });
    assert.deepEqual((await lister.lookup(f.account, "creating", "us-west-2", never()))?.entry, { region: "us-west-2", name: "creating" });
    const before = counts();
    assert.equal(await lister.lookup(f.account, "ready", "ap-south-1", never()), undefined);
    assert.deepEqual(since(before), { ListClusters: 0, DescribeCluster: 0, GetResources: 0 });
  });

  it("finds a name with capitals or '_' by a poll only: a lookup by its id's spelling asks EKS for another name", async () => {
    f.eks.addCluster("us-west-2", "Prod_Cluster", tagged({ env: "prod" }));
    const lister = f.lister();
    assert.deepEqual(names(await lister.listScope(f.account, "us-west-2", never())), ["Prod_Cluster"]);
    assert.equal(await lister.lookup(f.account, "prod-cluster", "us-west-2", never()), undefined);
    assert.equal((await lister.lookup(f.account, "Prod_Cluster", "us-west-2", never()))?.name, "Prod_Cluster");
  });

  it("stops at a page token handed back twice instead of paging forever: UPSTREAM_BAD_RESPONSE", async () => {
    const looping = await startFakeServer((req) => {
      const body = req.method === "POST" ? { ResourceTagMappingList: [], PaginationToken: "" } : { clusters: ["loop"], nextToken: "again" };
      return { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
    });
    try {
      const account = { ...f.account, credentials: "static", apiEndpoint: looping.url };
      const err = await serviceFailure(f.lister().listScope(account, "us-west-2", never()));
      assert.equal(err.reason, "UPSTREAM_BAD_RESPONSE");
      assert.equal(looping.requests.filter((r) => r.method === "GET").length, 2);
    } finally {
      await looping.close();
    }
  });

  it("signs for the regional Tagging API of the region's partition by default", () => {
    assert.equal(taggingEndpoint("eu-west-1"), "https://tagging.eu-west-1.amazonaws.com");
    assert.equal(taggingEndpoint("cn-north-1"), "https://tagging.cn-north-1.amazonaws.com.cn");
  });
});

describe("the fake EKS and Tagging API refuse what AWS refuses", () => {
  let f: EksListerFixture;
  before(async () => {
    f = await startEksListerFixture();
  });
  after(() => f.close());

  /** A GetResources request to the fake signed as told, and the fake's status. */
  const send = async (sign: { service?: string; region?: string; secret?: string; at?: number }) => {
    const url = new URL(f.eks.url);
    const body = JSON.stringify({ ResourceTypeFilters: ["eks:cluster"] });
    const signer = new SignatureV4({
      credentials: { accessKeyId: listerKeys.accessKeyId, secretAccessKey: sign.secret ?? listerKeys.secretAccessKey },
      region: sign.region ?? "us-west-2",
      service: sign.service ?? "tagging",
      sha256: Hash.bind(null, "sha256"),
    });
    const request = new HttpRequest({
      method: "POST",
      hostname: url.hostname,
      port: Number(url.port),
      path: "/",
      headers: {
        host: url.host,
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "ResourceGroupsTaggingAPI_20170126.GetResources",
      },
      body,
    });
    const signed = await signer.sign(request, { signingDate: new Date(sign.at ?? f.clock.now()) });
    const answer = await fetch(f.eks.url, { method: "POST", headers: signed.headers, body });
    return { status: answer.status, type: ((await answer.json()) as { __type?: string }).__type?.split("#")[1] };
  };

  it("accepts a request signed for tagging, in a region it serves, with a known key, by its clock", async () => {
    assert.equal((await send({})).status, 200);
  });

  it("refuses the wrong service, an unserved region, a wrong secret and a signature 10 minutes old", async () => {
    assert.deepEqual(await send({ service: "eks" }), { status: 400, type: "InvalidSignatureException" });
    assert.deepEqual(await send({ region: "ap-south-1" }), { status: 400, type: "InvalidSignatureException" });
    assert.deepEqual(await send({ secret: "not-the-secret" }), { status: 400, type: "InvalidSignatureException" });
    assert.deepEqual(await send({ at: f.clock.now() - 10 * 60_000 }), { status: 400, type: "InvalidSignatureException" });
  });
});
