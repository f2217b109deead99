import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ListClustersRequestSchema } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { AccessPolicy } from "../../src/auth/access-policy.js";
import { CallFailure } from "../../src/core/call-context.js";
import { ClusterAccessResolver } from "../../src/core/cluster-access-resolver.js";
import { ClusterRegistry } from "../../src/core/cluster-registry.js";
import { createClusterTokenHandlers } from "../../src/core/cluster-token-handlers.js";
import { ServiceError } from "../../src/errors/service-error.js";
import { clusterPlacement } from "../../src/providers.js";
import { ctx, exec, rejects, responsesOf, setUp, setUpRaw, tokenRequest } from "../support/handler-fixture.js";
import { testConfig } from "../support/test-config.js";

/* GenerateToken, ListClusters and the audit facts of the core's handlers, called directly; GetKubeconfig is kubeconfig-handlers.test.ts. */

describe("audit facts", () => {
  it("come back with the outcome, and with the failure as far as the call got", async () => {
    const { raw } = setUpRaw();
    const { facts } = await raw.generateToken(tokenRequest({ clusterId: "demo-eks" }), ctx());
    assert.deepEqual(Object.keys(facts).sort(), ["clusterId", "identity", "provider", "tokenExpiry", "tokenFingerprint"]);
    assert.deepEqual([facts.clusterId, facts.provider], ["demo-eks", "aws"]);
    assert.match(facts.tokenFingerprint ?? "", /^sha256:[0-9a-f]{16}$/);
    const failure = await raw.generateToken(tokenRequest({ clusterId: "nope" }), ctx()).then(
      () => assert.fail("expected a failure"),
      (err: unknown) => err,
    );
    assert.ok(failure instanceof CallFailure);
    assert.deepEqual(failure.facts, { clusterId: "nope" }, "no provider for a cluster that is not registered");
  });
});

describe("GenerateToken", () => {
  it("answers an ExecCredential with the default apiVersion and the driver's expiry", async () => {
    const { handlers } = setUp();
    const response = await handlers.generateToken(tokenRequest({ clusterId: "demo-eks" }), ctx());
    assert.equal(response.apiVersion, "client.authentication.k8s.io/v1");
    assert.equal(response.kind, "ExecCredential");
    assert.equal(response.status?.token, "test-token-demo-eks-1");
    assert.equal(timestampDate(response.status!.expirationTimestamp as never).toISOString(), "2026-01-01T00:10:00.000Z");
  });

  it("echoes v1beta1 and rejects any other apiVersion", async () => {
    const { handlers, driver } = setUp();
    const beta = await handlers.generateToken(
      tokenRequest({ clusterId: "demo-eks", apiVersion: "client.authentication.k8s.io/v1beta1" }),
      ctx(),
    );
    assert.equal(beta.apiVersion, "client.authentication.k8s.io/v1beta1");
    for (const apiVersion of ["client.authentication.k8s.io/v1alpha1", "v1", "x".repeat(5000)]) {
      const err = await rejects(
        handlers.generateToken(tokenRequest({ clusterId: "demo-eks", apiVersion }), ctx()),
        "InvalidArgument",
        "UNSUPPORTED_API_VERSION",
      );
      assert.ok(err.message.length < 300, "a huge value is not echoed whole");
    }
    assert.equal(driver.minted, 1, "invalid requests never reach the driver");
  });

  it("rejects empty, oversized and malformed cluster ids before any lookup", async () => {
    const { handlers, driver } = setUp();
    await rejects(handlers.generateToken(tokenRequest({}), ctx()), "InvalidArgument", "INVALID_CLUSTER_ID");
    const long = await rejects(
      handlers.generateToken(tokenRequest({ clusterId: "a".repeat(10_240) }), ctx()),
      "InvalidArgument",
      "INVALID_CLUSTER_ID",
    );
    assert.match(long.message, /10240 characters long; the maximum is 63/);
    assert.ok(long.message.length < 200);
    for (const clusterId of ["Demo-EKS", "-demo", "demo_eks", "demo eks", "d\uFFFDmo"]) {
      await rejects(handlers.generateToken(tokenRequest({ clusterId }), ctx()), "InvalidArgument", "INVALID_CLUSTER_ID");
    }
    assert.equal(driver.minted, 0);
  });

  it("answers NOT_FOUND with the cluster id for an unknown cluster", async () => {
    const { handlers } = setUp();
    const err = await rejects(handlers.generateToken(tokenRequest({ clusterId: "unknown" }), ctx()), "NotFound", "CLUSTER_NOT_FOUND");
    assert.deepEqual(err.metadata, { cluster_id: "unknown" });
  });

  it("answers FAILED_PRECONDITION naming the provider when no driver can mint for it", async () => {
    const handlers = responsesOf(
      createClusterTokenHandlers({
        placement: clusterPlacement,
        registry: ClusterRegistry.fromConfig(testConfig().clusters),
        drivers: {},
        access: new ClusterAccessResolver({}, { ttlMs: 0 }),
        exec,
        policy: AccessPolicy.allowAll(),
      }),
    );
    const err = await rejects(
      handlers.generateToken(tokenRequest({ clusterId: "demo-eks" }), ctx()),
      "FailedPrecondition",
      "PROVIDER_CANNOT_MINT",
    );
    assert.equal(err.metadata.provider, "aws");
  });

  it("passes driver errors through unchanged", async () => {
    const { handlers, driver } = setUp();
    driver.failWith = new ServiceError({ reason: "UPSTREAM_THROTTLED", message: "aws is throttling" });
    await rejects(handlers.generateToken(tokenRequest({ clusterId: "demo-eks" }), ctx()), "Unavailable", "UPSTREAM_THROTTLED");
  });
});

describe("ListClusters", () => {
  it("lists every cluster sorted by id, with public attributes only", async () => {
    const { handlers } = setUp();
    const { clusters } = await handlers.listClusters(create(ListClustersRequestSchema), ctx());
    assert.deepEqual(
      clusters?.map((c) => ({ ...c, $typeName: undefined })),
      [
        {
          $typeName: undefined,
          id: "demo-eks",
          provider: "aws",
          region: "us-west-2",
          name: "demo",
          displayName: "Demo",
          endpoint: "https://ABCDEF.gr7.us-west-2.eks.amazonaws.com",
          labels: { env: "test" },
          source: "config",
        },
        {
          $typeName: undefined,
          id: "no-endpoint",
          provider: "aws",
          region: "eu-central-1",
          name: "bare",
          displayName: "",
          endpoint: "",
          labels: {},
          source: "config",
        },
      ],
    );
    assert.doesNotMatch(JSON.stringify(clusters), /aws-test|CTS_TEST/, "no credential reference is listed");
  });
});
