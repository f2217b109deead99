import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { parse } from "yaml";
import { KubeconfigMode } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { AccessPolicy } from "../../src/auth/access-policy.js";
import { ctx, kubeconfigRequest, rejects, setUp, setUpRaw } from "../support/handler-fixture.js";
import { testCaData, testConfig } from "../support/test-config.js";

/* GetKubeconfig of the core's handlers, called directly: embedded tokens, exec kubeconfigs and their identities. */

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
              "--identity=aws-test",
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

  it("in exec mode, needs a GetKubeconfig grant that selects the cluster and takes the identity from the caller's GenerateToken grants", async () => {
    const { credentials } = testConfig();
    const policy = AccessPolicy.fromGrants(
      [
        { principals: ["key:*"], clusters: ["demo-*"], rpcs: ["GetKubeconfig"], identities: ["aws-test"] },
        { principals: ["key:kubectl"], clusters: ["demo-*"], rpcs: ["GenerateToken"], identities: ["aws-ro"] },
      ],
      { ...credentials, "aws-ro": { provider: "aws" } },
    );
    const { raw, driver } = setUpRaw(undefined, policy);
    const execRequest = (identity = "") => kubeconfigRequest({ clusterId: "demo-eks", mode: KubeconfigMode.EXEC, identity });
    const { response, facts } = await raw.getKubeconfig(execRequest(), ctx("key:kubectl"));
    assert.match(response.kubeconfig ?? "", /--identity=aws-ro/);
    assert.deepEqual(facts, { clusterId: "demo-eks", provider: "aws", execIdentity: "aws-ro", kubeconfigMode: "exec" }, "minted as nobody");
    const refusal = (call: Promise<unknown>) =>
      call.then(
        () => assert.fail("expected a refusal"),
        (err: unknown) => err,
      );
    const named = await refusal(raw.getKubeconfig(execRequest("aws-test"), ctx("key:kubectl")));
    assert.deepEqual((named as { facts: object }).facts, { clusterId: "demo-eks", execIdentity: "aws-test" });
    const { handlers } = setUp(undefined, policy);
    const forAnother = await raw.getKubeconfig(execRequest(), ctx("key:operator"));
    assert.doesNotMatch(forAnother.response.kubeconfig ?? "", /--identity/, "no GenerateToken grant of its own: for another principal");
    assert.equal(forAnother.facts.execIdentity, undefined);
    const denied = await rejects(handlers.getKubeconfig(execRequest("aws-test"), ctx("key:operator")), "PermissionDenied", "NOT_GRANTED");
    assert.equal(denied.metadata.rpc, "GenerateToken", "a named identity its GenerateToken grants do not give");
    const unselected = await rejects(
      handlers.getKubeconfig(kubeconfigRequest({ clusterId: "no-endpoint", mode: KubeconfigMode.EXEC }), ctx("key:kubectl")),
      "PermissionDenied",
      "NOT_GRANTED",
    );
    assert.equal(unselected.metadata.rpc, "GetKubeconfig");
    assert.equal(driver.minted, 0);
  });
});
