import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { systemClock } from "../../src/common/clock.js";
import type { ClusterOf } from "../../src/core/registered-cluster.js";
import { awsProvider } from "../../src/drivers/aws/aws-provider.js";
import { gcpProvider } from "../../src/drivers/gcp/gcp-provider.js";
import { createTestServiceAccount } from "../fakes/fake-gcp.js";
import { serviceFailure } from "../support/service-failure.js";
import { createTestPki } from "../support/test-pki.js";

const base = { id: "c", region: "eu-west-1", name: "prod", displayName: "", labels: {}, credentials: "c" };

/**
 * The clouds reached through their SDKs (AWS, Google) report a certificate that fails
 * verification as the clouds reached through the bounded reader do: FAILED_PRECONDITION
 * UPSTREAM_TLS_UNTRUSTED, which is neither retried nor covered by a stale value.
 */
describe("an upstream whose certificate nobody trusts, through the cloud SDKs", () => {
  let stranger: Server;
  let url: string;
  before(async () => {
    const pki = await createTestPki("a CA nobody trusts");
    const cert = await pki.issue("sts", { cn: "sts.example", sans: ["IP:127.0.0.1"], usage: "server" });
    stranger = createServer({ cert: cert.cert, key: cert.key }, (_req, res) => res.writeHead(500).end());
    await new Promise<void>((resolve) => stranger.listen(0, "127.0.0.1", resolve));
    url = `https://127.0.0.1:${(stranger.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => stranger.close(resolve)));

  it("AWS STS (AssumeRole through the SDK)", async () => {
    process.env.CTS_TLS_TEST_AKID = "AKIATLSTEST000000001";
    process.env.CTS_TLS_TEST_SECRET = "tls-test-secret-abcdefghijklmnopqrstuvwxyz";
    const drivers = awsProvider.create(
      {
        c: {
          provider: "aws",
          accessKeyId: { env: "CTS_TLS_TEST_AKID" },
          secretAccessKey: { env: "CTS_TLS_TEST_SECRET" },
          roleArn: "arn:aws:iam::123456789012:role/eks-token-issuer",
          stsEndpoint: url,
        } as never,
      },
      { upstreamTimeoutMs: 10_000, clock: systemClock },
    );
    const cluster = { ...base, provider: "aws" } as ClusterOf<"aws">;
    const err = await serviceFailure(drivers.token!.mintToken(cluster as never, AbortSignal.timeout(20_000)));
    assert.deepEqual([err.code, err.reason], ["FailedPrecondition", "UPSTREAM_TLS_UNTRUSTED"]);
  });

  it("Google's OAuth token endpoint (google-auth-library)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cts-tls-gcp-"));
    await writeFile(join(dir, "sa.json"), createTestServiceAccount("issuer@proj-test.iam.gserviceaccount.com").keyFile);
    const drivers = gcpProvider.create(
      { c: { provider: "gcp", tokenEndpoint: `${url}/token`, serviceAccountKey: { file: join(dir, "sa.json") } } as never },
      { upstreamTimeoutMs: 10_000, clock: systemClock },
    );
    const cluster = { ...base, provider: "gcp", project: "proj-test" } as ClusterOf<"gcp">;
    const err = await serviceFailure(drivers.token!.mintToken(cluster as never, AbortSignal.timeout(20_000)));
    assert.deepEqual([err.code, err.reason], ["FailedPrecondition", "UPSTREAM_TLS_UNTRUSTED"]);
  });
});
