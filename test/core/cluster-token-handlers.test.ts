import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { parse } from "yaml";
import {
  GenerateTokenRequestSchema,
  ListClustersRequestSchema,
  GetKubeconfigRequestSchema,
  KubeconfigMode,
} from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { AccessPolicy } from "../../src/auth/access-policy.js";
import { type CallContext, CallFailure, unwrapFailure } from "../../src/core/call-context.js";
import { createClusterTokenHandlers } from "../../src/core/cluster-token-handlers.js";
import { ClusterAccessResolver } from "../../src/core/cluster-access-resolver.js";
import { ClusterRegistry } from "../../src/core/cluster-registry.js";
import { clusterPlacement } from "../../src/providers.js";
import { ServiceError, type ErrorCode } from "../../src/errors/service-error.js";
import { InMemoryTokenDriver } from "../support/in-memory-driver.js";
import { testCaData, testConfig } from "../support/test-config.js";

const now = new Date("2026-01-01T00:00:00Z");
/** A fresh context per call. */
const ctx = (principal = "anonymous"): CallContext => ({
  transport: "grpc",
  requestId: "test",
  signal: new AbortController().signal,
  deadline: Date.now() + 30_000,
  principal: { name: principal, kind: "anonymous" },
});

const exec = { publicUrl: "https://cluster-token.example.com", command: ["cluster-token"] };

type Handlers = ReturnType<typeof createClusterTokenHandlers>;
type Unwrapped = { [K in keyof Handlers]: (...args: Parameters<Handlers[K]>) => Promise<Awaited<ReturnType<Handlers[K]>>["response"]> };

/** The handlers as a caller sees them: the response alone, or the error itself rather than the failure with its facts. */
function responsesOf(handlers: Handlers): Unwrapped {
  const unwrap =
    <A extends unknown[], R>(handler: (...args: A) => Promise<{ response: R }>) =>
    (...args: A) =>
      handler(...args).then(
        (outcome) => outcome.response,
        (err: unknown) => {
          throw unwrapFailure(err).error;
        },
      );
  return {
    generateToken: unwrap(handlers.generateToken),
    getKubeconfig: unwrap(handlers.getKubeconfig),
    listClusters: unwrap(handlers.listClusters),
  };
}

function setUp(execSettings: { publicUrl?: string; command: string[] } = exec) {
  const { driver, raw } = setUpRaw(execSettings);
  return { driver, handlers: responsesOf(raw) };
}

function setUpRaw(execSettings: { publicUrl?: string; command: string[] } = exec) {
  const driver = new InMemoryTokenDriver(() => now);
  const drivers = { aws: { token: driver } };
  const raw = createClusterTokenHandlers({
    placement: clusterPlacement,
    registry: ClusterRegistry.fromConfig(testConfig().clusters),
    drivers,
    access: new ClusterAccessResolver(drivers, { ttlMs: 0 }),
    exec: execSettings,
    policy: AccessPolicy.allowAll(),
  });
  return { driver, raw };
}

async function rejects(promise: Promise<unknown>, code: ErrorCode, reason: string): Promise<ServiceError> {
  const err = await promise.then(
    () => assert.fail("expected a rejection"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ServiceError);
  assert.equal(err.code, code);
  assert.equal(err.reason, reason);
  return err;
}

const tokenRequest = (init: { clusterId?: string; apiVersion?: string }) => create(GenerateTokenRequestSchema, init);
const kubeconfigRequest = (init: { clusterId?: string; mode?: KubeconfigMode }) => create(GetKubeconfigRequestSchema, init);

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
    const { facts: kubeconfigFacts } = await raw.getKubeconfig(
      kubeconfigRequest({ clusterId: "demo-eks", mode: KubeconfigMode.EXEC }),
      ctx(),
    );
    assert.deepEqual(kubeconfigFacts, { clusterId: "demo-eks", provider: "aws", identity: "aws-test", kubeconfigMode: "exec" });
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

describe("GetKubeconfig", () => {
  it("embeds a fresh token in a kubeconfig with one cluster, user and context named after the id", async () => {
    const { handlers } = setUp();
    for (const mode of [KubeconfigMode.UNSPECIFIED, KubeconfigMode.EMBEDDED_TOKEN]) {
      const response = await handlers.getKubeconfig(kubeconfigRequest({ clusterId: "demo-eks", mode }), ctx());
      const doc = parse(response.kubeconfig!) as Record<string, unknown>;
      assert.deepEqual(doc, {
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          {
            name: "demo-eks",
            cluster: { server: "https://ABCDEF.gr7.us-west-2.eks.amazonaws.com", "certificate-authority-data": testCaData },
          },
        ],
        users: [{ name: "demo-eks", user: { token: (doc.users as { user: { token: string } }[])[0]!.user.token } }],
        contexts: [{ name: "demo-eks", context: { cluster: "demo-eks", user: "demo-eks" } }],
        "current-context": "demo-eks",
        preferences: {},
      });
      assert.match((doc.users as { user: { token: string } }[])[0]!.user.token, /^test-token-demo-eks-\d$/);
      assert.equal(timestampDate(response.expirationTimestamp as never).toISOString(), "2026-01-01T00:10:00.000Z");
    }
  });

  it("in exec mode, calls back into the service and holds no token", async () => {
    const { handlers, driver } = setUp({ publicUrl: "https://cts.example.com:8443", command: ["node", "/opt/cts/cluster-token.js"] });
    const response = await handlers.getKubeconfig(kubeconfigRequest({ clusterId: "demo-eks", mode: KubeconfigMode.EXEC }), ctx());
    const doc = parse(response.kubeconfig!) as { users: { name: string; user: Record<string, unknown> }[]; "current-context": string };
    assert.deepEqual(doc.users, [
      {
        name: "demo-eks",
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1",
            command: "node",
            args: [
              "/opt/cts/cluster-token.js",
              "credential",
              "--cluster",
              "demo-eks",
              "--identity",
              "aws-test",
              "--server",
              "https://cts.example.com:8443",
            ],
            interactiveMode: "Never",
            provideClusterInfo: false,
            installHint: (doc.users[0]!.user.exec as { installHint: string }).installHint,
          },
        },
      },
    ]);
    assert.equal(doc["current-context"], "demo-eks");
    assert.equal(response.expirationTimestamp, undefined);
    assert.equal(driver.minted, 0, "no token is minted for an exec kubeconfig");
    assert.doesNotMatch(response.kubeconfig!, /token:|test-token/);
  });

  it("refuses exec mode without a configured publicUrl", async () => {
    const { handlers } = setUp({ command: ["cluster-token"] });
    await rejects(
      handlers.getKubeconfig(kubeconfigRequest({ clusterId: "demo-eks", mode: KubeconfigMode.EXEC }), ctx()),
      "FailedPrecondition",
      "EXEC_NOT_CONFIGURED",
    );
  });

  it("rejects an unknown mode", async () => {
    const { handlers } = setUp();
    await rejects(
      handlers.getKubeconfig(kubeconfigRequest({ clusterId: "demo-eks", mode: 99 as KubeconfigMode }), ctx()),
      "InvalidArgument",
      "UNSUPPORTED_KUBECONFIG_MODE",
    );
  });

  it("refuses to build a kubeconfig without a server and CA when the provider cannot discover them", async () => {
    const { handlers } = setUp();
    const err = await rejects(
      handlers.getKubeconfig(kubeconfigRequest({ clusterId: "no-endpoint" }), ctx()),
      "FailedPrecondition",
      "DISCOVERY_NOT_SUPPORTED",
    );
    assert.equal(err.metadata.provider, "aws");
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
