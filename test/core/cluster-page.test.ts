import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { ListClustersRequestSchema } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { AccessPolicy } from "../../src/auth/access-policy.js";
import { type CallContext, unwrapFailure } from "../../src/core/call-context.js";
import { ClusterAccessResolver } from "../../src/core/cluster-access-resolver.js";
import { lastIdOfPageToken, maxSkippedPerPage, pageTokenAfter } from "../../src/core/cluster-page.js";
import { ClusterRegistry } from "../../src/core/cluster-registry.js";
import { clusterPlacement } from "../../src/providers.js";
import { createClusterTokenHandlers } from "../../src/core/cluster-token-handlers.js";
import { ServiceError } from "../../src/errors/service-error.js";
import { rawTestConfig, testCaData, testConfig } from "../support/test-config.js";

/** A registry of `count` EKS clusters, ids c0000, c0001, …, and ListClusters over it. */
function listing(count: number, policy = AccessPolicy.allowAll()) {
  const raw = rawTestConfig() as { clusters: unknown[] };
  raw.clusters = Array.from({ length: count }, (_, i) => ({
    id: `c${String(i).padStart(4, "0")}`,
    provider: "aws",
    region: "us-west-2",
    name: `c${i}`,
    credentials: "aws-test",
    endpoint: `https://c${i}.example.com`,
    certificateAuthorityData: testCaData,
  }));
  const handlers = createClusterTokenHandlers({
    placement: clusterPlacement,
    registry: ClusterRegistry.fromConfig(testConfig(raw).clusters),
    drivers: {},
    access: new ClusterAccessResolver({}, { ttlMs: 0 }),
    exec: { command: ["cluster-token"] },
    policy,
  });
  const context = (principal: string): CallContext => ({
    transport: "connect",
    requestId: "page",
    signal: new AbortController().signal,
    deadline: Date.now() + 5_000,
    principal: { name: principal, kind: "key" },
  });
  return async (init: { pageSize?: number; pageToken?: string }, principal = "key:reader") => {
    try {
      return (await handlers.listClusters(create(ListClustersRequestSchema, init), context(principal))).response;
    } catch (err) {
      throw unwrapFailure(err).error;
    }
  };
}

describe("ListClusters pages (AIP-158)", () => {
  it("pages through every cluster exactly once, 100 by default, in id order", async () => {
    const list = listing(250);
    const ids: string[] = [];
    const sizes: number[] = [];
    let pageToken = "";
    do {
      const page = await list({ pageToken });
      sizes.push(page.clusters?.length ?? 0);
      ids.push(...(page.clusters ?? []).map((c) => String(c.id)));
      pageToken = page.nextPageToken ?? "";
    } while (pageToken !== "");
    assert.deepEqual(sizes, [100, 100, 50]);
    assert.deepEqual(ids, [...ids].sort());
    assert.equal(new Set(ids).size, 250);
  });

  it("honours page_size, caps it at 1000, and ends a listing that fits in one page with no token", async () => {
    const list = listing(1_200);
    const seven = await list({ pageSize: 7 });
    assert.equal(seven.clusters?.length, 7);
    assert.equal(lastIdOfPageToken(seven.nextPageToken ?? ""), "c0006");
    assert.equal((await list({ pageSize: 5_000 })).clusters?.length, 1000);
    const small = listing(3);
    assert.equal((await small({ pageSize: 3 })).nextPageToken, "");
  });

  it("pages over what the caller may see only", async () => {
    const list = listing(300, AccessPolicy.fromGrants([{ principals: ["key:reader"], clusters: ["c01*"], rpcs: ["ListClusters"] }]));
    const first = await list({ pageSize: 60 });
    assert.equal(first.clusters?.length, 60);
    const second = await list({ pageSize: 60, pageToken: first.nextPageToken ?? "" });
    assert.deepEqual([second.clusters?.length, second.nextPageToken], [40, ""]);
  });

  it("ends a page short, with a token, once it has passed over maxSkippedPerPage clusters the caller may not see", async () => {
    const count = maxSkippedPerPage + 500;
    const list = listing(count, AccessPolicy.fromGrants([{ principals: ["key:reader"], clusters: ["c24*"], rpcs: ["ListClusters"] }]));
    const first = await list({ pageSize: 50 });
    assert.deepEqual(first.clusters, [], "nothing visible among the first clusters read");
    assert.equal(lastIdOfPageToken(first.nextPageToken ?? ""), `c${String(maxSkippedPerPage - 1).padStart(4, "0")}`);
    const ids: string[] = [];
    let pageToken = first.nextPageToken ?? "";
    while (pageToken !== "") {
      const page = await list({ pageSize: 50, pageToken });
      ids.push(...(page.clusters ?? []).map((c) => String(c.id)));
      pageToken = page.nextPageToken ?? "";
    }
    assert.equal(ids.length, 100, "every visible cluster, c2400 to c2499, exactly once");
    assert.deepEqual([ids[0], ids.at(-1), new Set(ids).size], ["c2400", "c2499", 100]);
  });

  it("refuses a negative page_size and a page_token it did not issue", async () => {
    const list = listing(5);
    for (const [init, reason] of [
      [{ pageSize: -1 }, "INVALID_PAGE_SIZE"],
      [{ pageToken: "not-a-token" }, "INVALID_PAGE_TOKEN"],
      [{ pageToken: Buffer.from("v1:../../etc").toString("base64url") }, "INVALID_PAGE_TOKEN"],
      [{ pageToken: "%%%" }, "INVALID_PAGE_TOKEN"],
    ] as const) {
      const err = await list(init).then(
        () => assert.fail("expected INVALID_ARGUMENT"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ServiceError);
      assert.deepEqual([err.code, err.reason], ["InvalidArgument", reason]);
    }
    assert.equal((await list({ pageToken: pageTokenAfter("c0002") })).clusters?.[0]?.id, "c0003");
  });
});
