import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { stringify } from "yaml";
import { generateApiKey } from "../../src/auth/api-keys.js";
import { startFakeSts } from "../fakes/fake-sts.js";
import { expectError } from "../support/error-info.js";
import { secureClients } from "../support/secure-fixture.js";
import { whileServing } from "../support/serve-process.js";
import { testAuditFile, testCaData } from "../support/test-config.js";
import { createTestPki } from "../support/test-pki.js";

const base = { accessKeyId: "AKIAIDENTITYRELOAD01", secretAccessKey: "identity-reload/Secret+Key0123456789abcd" };
const role = (name: string) => `arn:aws:iam::123456789012:role/${name}`;

/**
 * The process's own behaviour: `cluster-token serve` reloading its grants on SIGHUP.
 * A reload builds a new policy and a new, empty token cache: an identity it takes
 * away is refused at once, and no token minted before it is served again, not even
 * one of an identity still given.
 */
describe("cluster-token serve: a cloud identity per grant", () => {
  it("refuses an identity a SIGHUP removes from a grant at once, serves no token cached before the reload, and refuses malformed names", async () => {
    const sts = await startFakeSts({
      keys: { [base.accessKeyId]: { secretAccessKey: base.secretAccessKey } },
      roles: { [role("eks-deployer")]: { trustedKeys: [base.accessKeyId] }, [role("eks-readonly")]: { trustedKeys: [base.accessKeyId] } },
    });
    const pki = await createTestPki();
    const server = await pki.issue("server", { cn: "cts", sans: ["IP:127.0.0.1"], usage: "server" });
    const ci = generateApiKey();
    const aws = (name: string) => ({
      provider: "aws",
      accessKeyId: { env: "AWS_KEY_ID" },
      secretAccessKey: { env: "AWS_SECRET" },
      roleArn: role(name),
      stsEndpoint: sts.url,
    });
    const audit = { file: testAuditFile() };
    const config = (identities: string[]) => ({
      listen: { grpc: "127.0.0.1:0", http: "127.0.0.1:0" },
      audit,
      security: {
        tls: { certFile: server.certFile, keyFile: server.keyFile },
        apiKeys: [{ name: "ci", sha256: ci.sha256 }],
        grants: [{ principals: ["key:ci"], clusters: ["prod-eks"], rpcs: ["GenerateToken"], identities }],
      },
      credentials: { "eks-deployer": aws("eks-deployer"), "eks-readonly": aws("eks-readonly") },
      clusters: [
        {
          id: "prod-eks",
          provider: "aws",
          region: "us-west-2",
          name: "prod",
          credentials: "eks-deployer",
          endpoint: "https://prod.eks.example.com",
          certificateAuthorityData: testCaData,
        },
      ],
    });
    const env = { AWS_KEY_ID: base.accessKeyId, AWS_SECRET: base.secretAccessKey };
    try {
      await whileServing(config(["eks-readonly", "eks-deployer"]), { env }, async (svc) => {
        const client = secureClients({ httpAddress: svc.http, grpcAddress: svc.grpc }, { ca: pki.ca.cert, apiKey: ci.key }).grpc;
        const token = async (identity: string) => (await client.generateToken({ clusterId: "prod-eks", identity })).status!.token;
        const signer = (t: string) => (sts.verifyEksToken(t, "prod", "us-west-2") as { identity?: string }).identity;

        const deployer = await token("eks-deployer");
        assert.equal(signer(deployer), role("eks-deployer"));
        const readonly = await token("eks-readonly");
        const minted = sts.requests.length;
        assert.equal(await token("eks-deployer"), deployer, "cached: most of its lifetime remains");
        assert.equal(await token("eks-readonly"), readonly);
        assert.equal(sts.requests.length, minted);

        for (const identity of ["x".repeat(300), "eks-deployer\u0007", "eks-\ndeployer"]) {
          const { info } = await expectError(client.generateToken({ clusterId: "prod-eks", identity }), Code.InvalidArgument);
          assert.equal(info.reason, "INVALID_IDENTITY");
        }
        assert.equal(sts.requests.length, minted, "no upstream call for a malformed name");

        const from = svc.lines().length;
        await writeFile(svc.configFile, stringify(config(["eks-readonly"])));
        svc.child.kill("SIGHUP");
        await svc.waitForLine((l) => l.msg === "config reloaded", 20_000, from);
        const { info } = await expectError(
          client.generateToken({ clusterId: "prod-eks", identity: "eks-deployer" }),
          Code.PermissionDenied,
        );
        assert.equal(info.reason, "NOT_GRANTED", "the identity taken away");
        assert.equal(sts.requests.length, minted, "refused without asking STS");
        const after = await token("");
        assert.equal(signer(after), role("eks-readonly"), "the one identity left, without naming it");
        assert.notEqual(after, readonly, "a new token: the reload dropped the token cache (and the assumed role's session)");
        assert.equal(sts.requests.length, minted + 1, "one AssumeRole for the identity left");
      });
    } finally {
      await sts.close();
    }
  });
});
