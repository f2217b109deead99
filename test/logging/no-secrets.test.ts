import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConnectError } from "@connectrpc/connect";
import { errorSummary, scrubCredentials } from "../../src/logging/logger.js";
import { startFakeSts } from "../fakes/fake-sts.js";
import { startTestService } from "../support/running-service.js";
import { rawTestConfig, testAwsKeys, testConfig } from "../support/test-config.js";

describe("secrets and tokens never reach logs or errors", () => {
  it("scrubs credential shapes from text", () => {
    const text =
      "sig k8s-aws-v1.aHR0cHM6Ly9zdHM key AKIAIOSFODNN7EXAMPLE secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY Bearer abc.def ya29.a0AfH6 eyJhbGciOi.eyJzdWIi.sig ack k8s-ack-v2.eyJjbHVzdGVySWQ id LTAI5tAbCdEfGhIjKlMn";
    const scrubbed = scrubCredentials(text);
    for (const leak of [
      "aHR0cHM6Ly9zdHM",
      "AKIAIOSFODNN7EXAMPLE",
      "wJalrXUtnFEMI",
      "abc.def",
      "ya29.a0AfH6",
      "eyJhbGciOi",
      "eyJjbHVzdGVySWQ",
      "LTAI5tAbCdEfGhIjKlMn",
    ])
      assert.ok(!scrubbed.includes(leak), leak);
    assert.match(scrubbed, /^sig \[REDACTED\] key \[REDACTED\] secret \[REDACTED\]/);
  });

  it("summarises errors with scrubbed messages and causes", () => {
    const err = new Error("outer", { cause: new Error("inner with wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY") });
    assert.deepEqual(errorSummary(err), { type: "Error", message: "outer", cause: { type: "Error", message: "inner with [REDACTED]" } });
  });

  it("a full flow over both transports, successes and failures, leaks nothing", async () => {
    const roleArn = "arn:aws:iam::123456789012:role/issuer";
    const sts = await startFakeSts({
      keys: { [testAwsKeys.accessKeyId]: { secretAccessKey: testAwsKeys.secretAccessKey } },
      roles: { [roleArn]: { trustedKeys: [testAwsKeys.accessKeyId], externalId: "ext-secretish-1" } },
    });
    const raw = rawTestConfig() as { credentials: Record<string, Record<string, unknown>>; clusters: Record<string, unknown>[] };
    raw.credentials.assumed = {
      provider: "aws",
      accessKeyId: { env: "CTS_TEST_AWS_ACCESS_KEY_ID" },
      secretAccessKey: { env: "CTS_TEST_AWS_SECRET_ACCESS_KEY" },
      roleArn,
      externalId: "ext-secretish-1",
      stsEndpoint: sts.url,
    };
    raw.credentials.broken = { ...raw.credentials.assumed, externalId: "wrong-ext" };
    raw.clusters.push({ id: "assumed-eks", provider: "aws", region: "us-east-2", name: "a", credentials: "assumed" });
    raw.clusters.push({ id: "broken-eks", provider: "aws", region: "us-east-2", name: "b", credentials: "broken" });
    const svc = await startTestService(testConfig(raw));
    const leaks = new Set<string>([testAwsKeys.secretAccessKey]);
    const errors: string[] = [];
    try {
      for (const client of [svc.connect, svc.grpc, svc.grpcWeb]) {
        for (const clusterId of ["demo-eks", "assumed-eks"]) {
          leaks.add((await client.generateToken({ clusterId })).status!.token);
          leaks.add((await client.getKubeconfig({ clusterId: "demo-eks" })).kubeconfig.match(/token: (\S+)/)![1]!);
        }
        for (const clusterId of ["broken-eks", "nope", ""]) {
          await client.generateToken({ clusterId }).then(
            () => assert.fail("expected an error"),
            (e: unknown) =>
              errors.push(
                JSON.stringify({ ...ConnectError.from(e), message: ConnectError.from(e).message, details: ConnectError.from(e).details }),
              ),
          );
        }
      }
      for (const key of sts.keys.values()) {
        leaks.add(key.secretAccessKey);
        if (key.sessionToken) leaks.add(key.sessionToken);
      }
      assert.ok(leaks.size >= 5, "the base secret, both clusters' tokens, and the temporary secret and session token were collected");
      assert.equal(errors.length, 9);
      const haystack = svc.logs.text() + errors.join("\n");
      assert.ok(svc.logs.lines.length > 10);
      for (const secret of leaks)
        assert.ok(
          !haystack.includes(secret),
          `leaked ${secret.slice(0, 12)}… near ${haystack.slice(Math.max(0, haystack.indexOf(secret) - 200), haystack.indexOf(secret))}`,
        );
      assert.ok(!haystack.includes(testAwsKeys.accessKeyId), "access key ids stay out too");
    } finally {
      await svc.close();
      await sts.close();
    }
  });
});
