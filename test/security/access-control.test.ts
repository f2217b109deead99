import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { KubeconfigMode } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { tokenFingerprint } from "../../src/core/token-fingerprint.js";
import { expectError } from "../support/error-info.js";
import { httpsPost } from "../support/raw-https.js";
import { startTestService, type RunningService } from "../support/running-service.js";
import { createSecureFixture, secureClients, secureRawConfig, type SecureFixture } from "../support/secure-fixture.js";
import { testConfig } from "../support/test-config.js";

/** A raw HTTPS POST to the Connect listener, to see HTTP statuses. */
async function connectPost(
  svc: RunningService,
  ca: Buffer,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: { code?: string; details?: { debug?: { reason?: string } }[] } }> {
  const { status, text } = await httpsPost(
    `https://${svc.server.httpAddress}/clustertoken.v1.ClusterTokenService/${path}`,
    ca,
    JSON.stringify(body),
    { "content-type": "application/json", ...headers },
  );
  return { status, json: JSON.parse(text || "{}") };
}

describe("security: authentication and authorization", () => {
  let f: SecureFixture;
  let keysOnly: RunningService;
  let mtls: RunningService;
  before(async () => {
    f = await createSecureFixture();
    keysOnly = await startTestService(testConfig(secureRawConfig(f, { mtls: false })));
    mtls = await startTestService(testConfig(secureRawConfig(f, { mtls: true })));
  });
  after(async () => {
    await keysOnly.close();
    await mtls.close();
  });

  describe("API keys over TLS", () => {
    for (const transport of ["connect", "grpc"] as const) {
      it(`${transport}: no key, a wrong key or a malformed header is UNAUTHENTICATED`, async () => {
        const anonymous = secureClients(keysOnly.server, { ca: f.pki.ca.cert })[transport];
        assert.equal(
          (await expectError(anonymous.generateToken({ clusterId: "demo-eks" }), Code.Unauthenticated)).info.reason,
          "CREDENTIALS_MISSING",
        );
        const wrong = secureClients(keysOnly.server, { ca: f.pki.ca.cert, apiKey: `${f.keys.deployer.key}x` })[transport];
        assert.equal(
          (await expectError(wrong.generateToken({ clusterId: "demo-eks" }), Code.Unauthenticated)).info.reason,
          "INVALID_API_KEY",
        );
      });

      it(`${transport}: a valid key gets a token for its grant only; other clusters are PERMISSION_DENIED whether they exist or not`, async () => {
        const deployer = secureClients(keysOnly.server, { ca: f.pki.ca.cert, apiKey: f.keys.deployer.key })[transport];
        assert.match((await deployer.generateToken({ clusterId: "demo-eks" })).status!.token, /^k8s-aws-v1\./);
        const existing = await expectError(deployer.generateToken({ clusterId: "prod-eks" }), Code.PermissionDenied);
        const missing = await expectError(deployer.generateToken({ clusterId: "nope-eks" }), Code.PermissionDenied);
        assert.equal(existing.info.reason, "NOT_GRANTED");
        assert.equal(
          existing.error.rawMessage.replace("prod-eks", "X"),
          missing.error.rawMessage.replace("nope-eks", "X"),
          "existence does not change the answer",
        );
        await expectError(deployer.getKubeconfig({ clusterId: "demo-eks" }), Code.PermissionDenied);
        await expectError(deployer.listClusters({}), Code.PermissionDenied);
      });
    }

    it("Connect answers 401 without credentials and 403 outside the grant, for existing and missing clusters", async () => {
      const none = await connectPost(keysOnly, f.pki.ca.cert, "GenerateToken", { clusterId: "demo-eks" });
      assert.equal(none.status, 401);
      assert.equal(none.json.details?.[0]?.debug?.reason, "CREDENTIALS_MISSING");
      const basic = await connectPost(
        keysOnly,
        f.pki.ca.cert,
        "GenerateToken",
        { clusterId: "demo-eks" },
        { authorization: "Basic dXNlcjpwYXNz" },
      );
      assert.deepEqual([basic.status, basic.json.details?.[0]?.debug?.reason], [401, "MALFORMED_AUTHORIZATION"]);
      for (const clusterId of ["prod-eks", "nope-eks"]) {
        const denied = await connectPost(
          keysOnly,
          f.pki.ca.cert,
          "GenerateToken",
          { clusterId },
          { authorization: `Bearer ${f.keys.deployer.key}` },
        );
        assert.deepEqual([denied.status, denied.json.code], [403, "permission_denied"]);
      }
    });

    it("ListClusters shows only what the caller may see", async () => {
      const reader = secureClients(keysOnly.server, { ca: f.pki.ca.cert, apiKey: f.keys.reader.key });
      assert.deepEqual(
        (await reader.grpc.listClusters({})).clusters.map((c) => c.id),
        ["demo-eks", "prod-eks"],
      );
      await expectError(reader.connect.generateToken({ clusterId: "demo-eks" }), Code.PermissionDenied);
    });
  });

  describe("mTLS", () => {
    for (const transport of ["connect", "grpc"] as const) {
      it(`${transport}: a trusted client certificate authenticates as its URI SAN, DNS SAN or CN`, async () => {
        const ci = secureClients(mtls.server, { ca: f.pki.ca.cert, cert: f.ciCert })[transport];
        assert.match((await ci.generateToken({ clusterId: "demo-eks" })).status!.token, /^k8s-aws-v1\./);
        assert.deepEqual(
          (await ci.listClusters({})).clusters.map((c) => c.id),
          ["demo-eks"],
          "demo-* only",
        );
        await expectError(ci.generateToken({ clusterId: "prod-eks" }), Code.PermissionDenied);
        const ops = secureClients(mtls.server, { ca: f.pki.ca.cert, cert: f.opsCert })[transport];
        assert.match((await ops.generateToken({ clusterId: "prod-eks" })).status!.token, /^k8s-aws-v1\./);
        const legacy = secureClients(mtls.server, { ca: f.pki.ca.cert, cert: f.cnOnlyCert })[transport];
        const denied = await expectError(legacy.generateToken({ clusterId: "demo-eks" }), Code.PermissionDenied);
        assert.equal(denied.info.metadata.principal, "cert:legacy-client");
      });

      it(`${transport}: no certificate, one from another CA, or an expired one is rejected at the handshake`, async () => {
        for (const cert of [undefined, f.foreignCert, f.expiredCert]) {
          const client = secureClients(mtls.server, { ca: f.pki.ca.cert, ...(cert ? { cert } : {}) })[transport];
          const err = await client.generateToken({ clusterId: "demo-eks" }, { timeoutMs: 5000 }).then(
            () => assert.fail("expected the connection to be refused"),
            (e: unknown) => ConnectError.from(e),
          );
          assert.notEqual(err.code, Code.PermissionDenied);
          assert.match(`${err.message} ${String(err.cause)}`, /certificate|alert|socket|reset|closed|EPROTO|handshake|unavailable/i);
        }
      });
    }

    for (const transport of ["connect", "grpc"] as const) {
      it(`${transport}: a certificate named like an API key does not get the key's grants, and the key still works`, async () => {
        const impostor = secureClients(mtls.server, { ca: f.pki.ca.cert, cert: f.keyNameCert })[transport];
        const denied = await expectError(impostor.generateToken({ clusterId: "demo-eks" }), Code.PermissionDenied);
        assert.equal(denied.info.metadata.principal, "cert:deployer");
        const key = secureClients(mtls.server, { ca: f.pki.ca.cert, cert: f.cnOnlyCert, apiKey: f.keys.deployer.key })[transport];
        assert.match((await key.generateToken({ clusterId: "demo-eks" })).status!.token, /^k8s-aws-v1\./);
      });

      it(`${transport}: SPIFFE IDs are parsed, and * stays within one path segment`, async () => {
        const dots = secureClients(mtls.server, { ca: f.pki.ca.cert, cert: f.dotSegmentCert })[transport];
        assert.equal(
          (await expectError(dots.generateToken({ clusterId: "demo-eks" }), Code.Unauthenticated)).info.reason,
          "CERTIFICATE_IDENTITY_INVALID",
        );
        const deep = secureClients(mtls.server, { ca: f.pki.ca.cert, cert: f.deepCert })[transport];
        const denied = await expectError(deep.generateToken({ clusterId: "demo-eks" }), Code.PermissionDenied);
        assert.equal(denied.info.metadata.principal, "spiffe://corp.example/ns/ci/x/y");
      });
    }

    it("an API key presented with a certificate names the principal", async () => {
      const both = secureClients(mtls.server, { ca: f.pki.ca.cert, cert: f.ciCert, apiKey: f.keys.reader.key });
      assert.deepEqual(
        (await both.connect.listClusters({})).clusters.map((c) => c.id),
        ["demo-eks", "prod-eks"],
      );
    });

    it("exec kubeconfigs carry the client's TLS and key flags, validated", async () => {
      const ci = secureClients(mtls.server, { ca: f.pki.ca.cert, cert: f.ciCert }).connect;
      await expectError(
        ci.getKubeconfig({ clusterId: "demo-eks", mode: KubeconfigMode.EXEC, execOptions: { caFile: "/etc/cts/ca.pem" } }),
        Code.FailedPrecondition,
      );
      const invalid = await expectError(
        ci.getKubeconfig({ clusterId: "demo-eks", mode: KubeconfigMode.EMBEDDED_TOKEN, execOptions: { caFile: "/etc/cts/ca.pem" } }),
        Code.InvalidArgument,
      );
      assert.equal(invalid.info.reason, "EXEC_OPTIONS_WITHOUT_EXEC");
      const relative = await expectError(
        ci.getKubeconfig({ clusterId: "demo-eks", mode: KubeconfigMode.EXEC, execOptions: { caFile: "ca.pem" } }),
        Code.InvalidArgument,
      );
      assert.equal(relative.info.reason, "INVALID_EXEC_OPTION");
    });
  });

  it("audits every issuance and denial, with a token fingerprint and never the token", async () => {
    const deployer = secureClients(keysOnly.server, { ca: f.pki.ca.cert, apiKey: f.keys.deployer.key });
    const issued = await deployer.grpc.generateToken({ clusterId: "demo-eks" }, { headers: { "x-request-id": "audit-issued-1" } });
    await deployer.connect
      .generateToken({ clusterId: "nope-eks" }, { headers: { "x-request-id": "audit-denied-1" } })
      .catch(() => undefined);
    await secureClients(keysOnly.server, { ca: f.pki.ca.cert })
      .grpc.listClusters({}, { headers: { "x-request-id": "audit-anon-1" } })
      .catch(() => undefined);
    const lines = await keysOnly.audit();
    const byId = (id: string) => lines.find((l) => l.requestId === id);
    const token = issued.status!.token;
    assert.deepEqual(
      { ...byId("audit-issued-1"), time: undefined },
      {
        time: undefined,
        log: "audit",
        event: "issued",
        principal: "key:deployer",
        transport: "grpc",
        rpc: "GenerateToken",
        requestId: "audit-issued-1",
        outcome: "issued",
        code: "OK",
        clusterId: "demo-eks",
        provider: "aws",
        identity: "aws-test",
        tokenExpiry: new Date(Number(issued.status!.expirationTimestamp!.seconds) * 1000).toISOString(),
        tokenFingerprint: tokenFingerprint(token),
      },
    );
    assert.match(String(byId("audit-issued-1")!.time), /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(
      { ...byId("audit-denied-1"), time: undefined },
      {
        time: undefined,
        log: "audit",
        event: "denied",
        principal: "key:deployer",
        transport: "connect",
        rpc: "GenerateToken",
        requestId: "audit-denied-1",
        outcome: "denied",
        code: "PERMISSION_DENIED",
        reason: "NOT_GRANTED",
        clusterId: "nope-eks",
      },
    );
    assert.equal(byId("audit-anon-1")?.principal, "(unauthenticated)");
    assert.equal(byId("audit-anon-1")?.code, "UNAUTHENTICATED");
    assert.ok(!JSON.stringify(lines).includes(token));
  });
});
