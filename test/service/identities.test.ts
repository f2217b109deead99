import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { KubeconfigMode } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { generateApiKey } from "../../src/auth/api-keys.js";
import { startFakeSts, type FakeSts } from "../fakes/fake-sts.js";
import { expectError } from "../support/error-info.js";
import { startTestService, type RunningService } from "../support/running-service.js";
import { secureClients } from "../support/secure-fixture.js";
import { testAuditFile, testCaData, testConfig } from "../support/test-config.js";
import { createTestPki } from "../support/test-pki.js";

const base = { accessKeyId: "AKIAIDENTITIES000001", secretAccessKey: "identities/Secret+Key0123456789abcdefghij" };
process.env.CTS_IDS_AKID = base.accessKeyId;
process.env.CTS_IDS_SECRET = base.secretAccessKey;
process.env.CTS_IDS_GCP_KEY = "{}";
const role = (name: string) => `arn:aws:iam::123456789012:role/${name}`;
const roles = { deployer: role("eks-deployer"), readonly: role("eks-readonly"), untrusted: role("eks-untrusted") };

/**
 * Per-grant cloud identities through the real service and the real AWS driver, against
 * a fake STS that verifies every AssumeRole and says which role signed each token.
 */
describe("a cloud identity per grant", () => {
  let sts: FakeSts;
  let svc: RunningService;
  type Who = "ci" | "deployer" | "ops" | "kube";
  let client: (who: Who) => ReturnType<typeof secureClients>["grpc"];
  const keys = { ci: generateApiKey(), deployer: generateApiKey(), ops: generateApiKey(), kube: generateApiKey() };

  before(async () => {
    sts = await startFakeSts({
      keys: { [base.accessKeyId]: { secretAccessKey: base.secretAccessKey } },
      // eks-untrusted exists but does not trust the service's key: AssumeRole answers 403 AccessDenied.
      roles: {
        [roles.deployer]: { trustedKeys: [base.accessKeyId] },
        [roles.readonly]: { trustedKeys: [base.accessKeyId] },
        [roles.untrusted]: { trustedKeys: [] },
      },
    });
    const pki = await createTestPki();
    const server = await pki.issue("server", { cn: "cts", sans: ["IP:127.0.0.1"], usage: "server" });
    const aws = (roleArn: string) => ({
      provider: "aws",
      accessKeyId: { env: "CTS_IDS_AKID" },
      secretAccessKey: { env: "CTS_IDS_SECRET" },
      roleArn,
      stsEndpoint: sts.url,
    });
    svc = await startTestService(
      testConfig({
        listen: { grpc: "127.0.0.1:0", http: "127.0.0.1:0", metrics: "127.0.0.1:0" },
        publicUrl: "https://cts.example.com",
        audit: { file: testAuditFile() },
        security: {
          tls: { certFile: server.certFile, keyFile: server.keyFile },
          apiKeys: Object.entries(keys).map(([name, key]) => ({ name, sha256: key.sha256 })),
          grants: [
            { principals: ["key:ci"], clusters: ["prod-*"], rpcs: ["GenerateToken", "GetKubeconfig"], identities: ["eks-readonly"] },
            // No identities: the cluster's own credentials, eks-deployer.
            { principals: ["key:deployer"], clusters: ["prod-eks"], rpcs: ["*"] },
            { principals: ["key:ops"], clusters: ["prod-eks"], rpcs: ["GenerateToken"], identities: ["eks-readonly", "eks-untrusted"] },
            { principals: ["key:ops"], clusterLabels: { env: "prod" }, rpcs: ["GenerateToken"] },
            { principals: ["key:ops"], clusters: ["*-gke"], rpcs: ["GenerateToken"], identities: ["gke-ops"] },
            // Kubeconfigs embed a deployer's token, but kubectl's own GenerateToken calls read only.
            { principals: ["key:kube"], clusters: ["prod-eks"], rpcs: ["GetKubeconfig"], identities: ["eks-deployer"] },
            { principals: ["key:kube"], clusters: ["prod-eks"], rpcs: ["GenerateToken"], identities: ["eks-readonly"] },
          ],
        },
        credentials: {
          "eks-deployer": aws(roles.deployer),
          "eks-readonly": aws(roles.readonly),
          "eks-untrusted": aws(roles.untrusted),
          "gke-ops": { provider: "gcp", serviceAccountKey: { env: "CTS_IDS_GCP_KEY" } },
        },
        clusters: [
          {
            id: "prod-eks",
            provider: "aws",
            region: "us-west-2",
            name: "prod",
            labels: { env: "prod" },
            credentials: "eks-deployer",
            endpoint: "https://prod.eks.example.com",
            certificateAuthorityData: testCaData,
          },
          {
            id: "web-gke",
            provider: "gcp",
            project: "proj-web",
            region: "europe-west4",
            name: "web",
            credentials: "gke-ops",
            endpoint: "https://35.1.2.3",
            certificateAuthorityData: testCaData,
          },
        ],
      }),
    );
    const address = { httpAddress: svc.server.httpAddress, grpcAddress: svc.server.grpcAddress };
    client = (who) => secureClients(address, { ca: pki.ca.cert, apiKey: keys[who].key }).grpc;
  });
  after(async () => {
    await svc?.close();
    await sts?.close();
  });

  const signer = (token: string) => {
    const verdict = sts.verifyEksToken(token, "prod", "us-west-2");
    assert.equal(verdict.ok, true, JSON.stringify(verdict));
    return (verdict as { identity: string }).identity;
  };
  const tokenOf = async (who: Who, identity = "") => (await client(who).generateToken({ clusterId: "prod-eks", identity })).status!.token;

  it("mints each caller's token as the identity its grants give, concurrently, each verified by STS as its own role", async () => {
    const calls = Array.from({ length: 6 }, (_, i): "ci" | "deployer" => (i % 2 === 0 ? "ci" : "deployer"));
    const tokens = await Promise.all(calls.map((who) => tokenOf(who)));
    assert.deepEqual(
      tokens.map(signer),
      calls.map((who) => (who === "ci" ? roles.readonly : roles.deployer)),
    );
    assert.equal(signer(await tokenOf("ops", "eks-readonly")), roles.readonly, "a named identity the grant gives");
    assert.equal(signer(await tokenOf("ops", "eks-deployer")), roles.deployer, "the cluster's own, by its name, from a label grant");
    assert.equal(signer(await tokenOf("ci", "eks-readonly")), roles.readonly, "the one identity, named");
  });

  it("names the identity in every issuance's audit line, the access log and the issuance metric", async () => {
    await tokenOf("ci");
    const issued = (await svc.audit()).filter((l) => l.outcome === "issued" && l.rpc === "GenerateToken");
    assert.ok(issued.some((l) => l.principal === "key:ci" && l.identity === "eks-readonly"));
    assert.ok(issued.some((l) => l.principal === "key:deployer" && l.identity === "eks-deployer"));
    assert.ok(issued.every((l) => typeof l.identity === "string"));
    const access = svc.logs.records().filter((l) => l.msg === "rpc" && l.rpc === "GenerateToken" && l.code === "OK");
    assert.ok(access.some((l) => l.principal === "key:ci" && l.identity === "eks-readonly"));
    const scrape = await (await fetch(`http://${svc.server.metricsAddress}/metrics`)).text();
    assert.match(scrape, /cluster_token_issuances_total\{rpc="GenerateToken",provider="aws",identity="eks-readonly"\} \d+/);
    assert.match(scrape, /cluster_token_issuances_total\{rpc="GenerateToken",provider="aws",identity="eks-deployer"\} \d+/);
  });

  it("lists the caller's own choices, sorted, when its grants give several and it names none: FAILED_PRECONDITION", async () => {
    const before = sts.requests.length;
    const { error, info } = await expectError(client("ops").generateToken({ clusterId: "prod-eks" }), Code.FailedPrecondition);
    assert.equal(info.reason, "IDENTITY_REQUIRED");
    assert.equal(info.metadata.identities, "eks-deployer,eks-readonly,eks-untrusted");
    assert.match(error.rawMessage, /eks-deployer, eks-readonly, eks-untrusted/);
    assert.ok(!error.rawMessage.includes("gke-ops"), "another provider's identity is no choice here");
    assert.equal(sts.requests.length, before, "no upstream call");
  });

  it("denies an unknown identity, another provider's, and another caller's exactly as a missing grant, without an upstream call", async () => {
    const before = sts.requests.length;
    const denial = async (who: "ci" | "ops", identity: string) => {
      const { error, info } = await expectError(client(who).generateToken({ clusterId: "prod-eks", identity }), Code.PermissionDenied);
      assert.equal(info.reason, "NOT_GRANTED");
      return { message: error.rawMessage.replace(identity, "<named>"), metadata: { ...info.metadata, identity: "<named>" } };
    };
    const unknown = await denial("ops", "eks-nobody");
    assert.deepEqual(await denial("ops", "gke-ops"), unknown, "another provider's identity");
    assert.deepEqual(await denial("ci", "eks-deployer"), {
      ...unknown,
      message: unknown.message.replace("key:ops", "key:ci"),
      metadata: { ...unknown.metadata, principal: "key:ci" },
    });
    const noGrant = await expectError(
      client("ci").generateToken({ clusterId: "dev-eks", identity: "eks-readonly" }),
      Code.PermissionDenied,
    );
    assert.equal(noGrant.info.reason, "NOT_GRANTED");
    assert.equal(sts.requests.length, before, "no upstream call");
    const denied = (await svc.audit()).filter((l) => l.outcome === "denied" && l.principal === "key:ops");
    assert.ok(
      denied.some((l) => l.identity === "eks-nobody"),
      "the audit line names the identity the request named",
    );
  });

  it("refuses a malformed identity (300 characters, control characters) with INVALID_ARGUMENT before any lookup", async () => {
    const before = sts.requests.length;
    for (const identity of ["e".repeat(300), "eks-readonly\n", "eks\u0000readonly", "eks readonly", "eks/readonly"]) {
      const { error, info } = await expectError(client("ops").generateToken({ clusterId: "prod-eks", identity }), Code.InvalidArgument);
      assert.equal(info.reason, "INVALID_IDENTITY");
      assert.equal(info.metadata.field, "identity");
      assert.ok(!error.rawMessage.includes(identity), "the value is never echoed");
    }
    assert.equal(sts.requests.length, before, "no upstream call");
    assert.ok(!svc.logs.text().includes("e".repeat(300)) && !svc.logs.text().includes("eks\\u0000readonly"), "nor logged");
  });

  it("fails only the identity whose role cannot be assumed (403 from STS): FAILED_PRECONDITION, the others keep working", async () => {
    const [refused, readonly, deployer] = await Promise.allSettled([
      tokenOf("ops", "eks-untrusted"),
      tokenOf("ops", "eks-readonly"),
      tokenOf("deployer"),
    ]);
    assert.equal(refused.status, "rejected");
    const { info } = await expectError(Promise.reject((refused as PromiseRejectedResult).reason), Code.FailedPrecondition);
    assert.equal(info.reason, "UPSTREAM_PERMISSION_DENIED");
    assert.equal(info.metadata.cluster_id, "prod-eks");
    assert.equal(signer((readonly as PromiseFulfilledResult<string>).value), roles.readonly);
    assert.equal(signer((deployer as PromiseFulfilledResult<string>).value), roles.deployer);
    const failed = (await svc.audit()).filter((l) => l.outcome === "failed" && l.principal === "key:ops");
    assert.ok(
      failed.some((l) => l.identity === "eks-untrusted"),
      "the failure's audit line names the identity",
    );
  });

  it("writes into exec kubeconfigs the identity the GenerateToken grants give, which kubectl mints with; nothing counts as minted", async () => {
    const exec = async (identity = "") =>
      (await client("kube").getKubeconfig({ clusterId: "prod-eks", mode: KubeconfigMode.EXEC, identity })).kubeconfig;
    const kubeconfig = await exec();
    assert.match(kubeconfig, /- --cluster\n\s+- prod-eks\n\s+- --identity=eks-readonly\n/);
    assert.equal(signer(await tokenOf("kube", "eks-readonly")), roles.readonly, "what kubectl then asks for is granted");
    const { info } = await expectError(exec("eks-deployer"), Code.PermissionDenied);
    assert.deepEqual([info.reason, info.metadata.rpc], ["NOT_GRANTED", "GenerateToken"], "kubectl could never mint it");
    const embedded = await client("kube").getKubeconfig({ clusterId: "prod-eks" });
    assert.equal(signer(/token: (\S+)/.exec(embedded.kubeconfig)![1]!), roles.deployer, "an embedded token: the GetKubeconfig grant's");
    const lines = (await svc.audit()).filter((l) => l.principal === "key:kube" && l.rpc === "GetKubeconfig");
    assert.deepEqual(
      lines.map((l) => [l.outcome, l.kubeconfigMode, l.identity, l.execIdentity]),
      [
        ["issued", "exec", undefined, "eks-readonly"],
        ["denied", undefined, undefined, "eks-deployer"],
        ["issued", "embedded-token", "eks-deployer", undefined],
      ],
    );
    const scrape = await (await fetch(`http://${svc.server.metricsAddress}/metrics`)).text();
    const kubeconfigs = scrape.match(/^cluster_token_issuances_total\{rpc="GetKubeconfig",provider="aws",identity="([^"]+)"\} (\d+)$/gm);
    assert.deepEqual(kubeconfigs, ['cluster_token_issuances_total{rpc="GetKubeconfig",provider="aws",identity="eks-deployer"} 1']);
  });
});
