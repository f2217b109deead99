import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { GcpCredentialConfig } from "../../../src/drivers/gcp/gcp-config.js";
import type { ClusterOf } from "../../../src/core/registered-cluster.js";
import { systemClock } from "../../../src/common/clock.js";
import { gcpProvider } from "../../../src/drivers/gcp/gcp-provider.js";
import { createTestServiceAccount, startFakeGcp, type FakeGcp, type TestServiceAccount } from "../../fakes/fake-gcp.js";
import { serviceFailure } from "../../support/service-failure.js";
import { forgetSecretFiles, secretFileFreshMs } from "../../../src/config/secret-ref.js";

const cluster: ClusterOf<"gcp"> = {
  id: "prod-gke",
  provider: "gcp",
  project: "proj-test",
  region: "europe-west1",
  name: "prod",
  displayName: "",
  labels: {},
  credentials: "c",
};

describe("GKE driver through google-auth-library", () => {
  let gcp: FakeGcp;
  let issuer: TestServiceAccount;
  let dir: string;
  const target = "deployer@proj-test.iam.gserviceaccount.com";
  before(async () => {
    issuer = createTestServiceAccount("issuer@proj-test.iam.gserviceaccount.com");
    gcp = await startFakeGcp({
      serviceAccounts: [issuer],
      impersonation: { [target]: [issuer.email] },
      clusters: {},
      tokenLifetimeS: 1234,
    });
    dir = await mkdtemp(join(tmpdir(), "cts-gke-driver-"));
    await writeFile(join(dir, "issuer.json"), issuer.keyFile);
  });
  after(() => gcp.close());

  const mint = (entry: Omit<GcpCredentialConfig, "provider">) =>
    gcpProvider
      .create({ c: { provider: "gcp", tokenEndpoint: gcp.tokenUrl, ...entry } }, { upstreamTimeoutMs: 10_000, clock: systemClock })
      .token!.mintToken(cluster, AbortSignal.timeout(20_000));

  it("mints with a key file and reports the token's real expiry", async () => {
    const { token, expiresAt } = await mint({ serviceAccountKey: { file: join(dir, "issuer.json") } });
    assert.deepEqual(gcp.verifyAccessToken(token), { ok: true, identity: issuer.email });
    const lifetime = expiresAt.getTime() - Date.now();
    assert.ok(lifetime > 1225_000 && lifetime <= 1234_000, `lifetime ${lifetime}`);
    assert.deepEqual(gcp.issued.get(token)!.scopes.sort(), [
      "https://www.googleapis.com/auth/cloud-platform",
      "https://www.googleapis.com/auth/userinfo.email",
    ]);
  });

  it("mints with a key from an environment variable", async () => {
    process.env.CTS_GKE_KEY_JSON = issuer.keyFile;
    const { token } = await mint({ serviceAccountKey: { env: "CTS_GKE_KEY_JSON" } });
    assert.equal(gcp.verifyAccessToken(token).ok, true);
  });

  it("mints through Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS)", async () => {
    const saved = process.env.GOOGLE_APPLICATION_CREDENTIALS;
    process.env.GOOGLE_APPLICATION_CREDENTIALS = join(dir, "issuer.json");
    try {
      const { token } = await mint({ source: "default" });
      assert.deepEqual(gcp.verifyAccessToken(token), { ok: true, identity: issuer.email });
    } finally {
      if (saved === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
      else process.env.GOOGLE_APPLICATION_CREDENTIALS = saved;
    }
  });

  it("impersonates a service account when configured", async () => {
    const { token, expiresAt } = await mint({
      serviceAccountKey: { file: join(dir, "issuer.json") },
      impersonateServiceAccount: target,
      iamCredentialsEndpoint: gcp.url,
    });
    assert.deepEqual(gcp.verifyAccessToken(token), { ok: true, identity: target });
    assert.ok(expiresAt.getTime() > Date.now() + 1200_000);
    const denied = await serviceFailure(
      mint({
        serviceAccountKey: { file: join(dir, "issuer.json") },
        impersonateServiceAccount: "other@proj-test.iam.gserviceaccount.com",
        iamCredentialsEndpoint: gcp.url,
      }),
    );
    assert.equal(denied.code, "FailedPrecondition");
    assert.equal(denied.reason, "UPSTREAM_PERMISSION_DENIED");
  });

  it("rejects a malformed key file with FAILED_PRECONDITION, naming the reference, never the content", async () => {
    const cases: [string, string][] = [
      ["not-json.json", "{ this is not json"],
      ["not-sa.json", JSON.stringify({ type: "authorized_user", client_id: "x" })],
      ["no-key.json", JSON.stringify({ type: "service_account", client_email: "a@b.iam.gserviceaccount.com", private_key: "nope" })],
    ];
    for (const [file, content] of cases) {
      await writeFile(join(dir, file), content);
      const err = await serviceFailure(mint({ serviceAccountKey: { file: join(dir, file) } }));
      assert.equal(err.code, "FailedPrecondition");
      assert.equal(err.reason, "CREDENTIALS_INVALID");
      assert.match(err.message, new RegExp(`file .*${file}`));
      for (const fragment of ["this is not json", "authorized_user", "client_id", "nope"])
        assert.ok(!err.message.includes(fragment), err.message);
    }
  });

  it("maps a key Google does not recognise (a forged signature) to FAILED_PRECONDITION", async () => {
    const impostor = createTestServiceAccount(issuer.email);
    await writeFile(join(dir, "impostor.json"), impostor.keyFile);
    const err = await serviceFailure(mint({ serviceAccountKey: { file: join(dir, "impostor.json") } }));
    assert.equal(err.code, "FailedPrecondition");
    assert.equal(err.reason, "UPSTREAM_REJECTED");
    assert.ok(!err.message.includes("PRIVATE KEY"));
  });

  it("picks up a rotated key file without a restart, once the file's read is no longer fresh", async () => {
    const rotating = join(dir, "rotating.json");
    await writeFile(rotating, issuer.keyFile);
    const provider = gcpProvider.create(
      { c: { provider: "gcp", tokenEndpoint: gcp.tokenUrl, serviceAccountKey: { file: rotating } } },
      { upstreamTimeoutMs: 10_000, clock: systemClock },
    );
    assert.equal(gcp.verifyAccessToken((await provider.token!.mintToken(cluster, AbortSignal.timeout(20_000))).token).ok, true);
    await writeFile(rotating, "{ broken");
    assert.equal(
      gcp.verifyAccessToken((await provider.token!.mintToken(cluster, AbortSignal.timeout(20_000))).token).ok,
      true,
      `a read is reused for ${secretFileFreshMs} ms`,
    );
    forgetSecretFiles([rotating]); // as if that time had passed
    assert.equal((await serviceFailure(provider.token!.mintToken(cluster, AbortSignal.timeout(20_000)))).reason, "CREDENTIALS_INVALID");
  });
});
