import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConnectError } from "@connectrpc/connect";
import { createLogger, errorSummary, scrubCredentials } from "../../src/logging/logger.js";
import { SecretScrubber } from "../../src/logging/secret-scrubber.js";
import { type ProviderName, providers } from "../../src/providers.js";
import { startFakeSts } from "../fakes/fake-sts.js";
import { LogCapture } from "../support/log-capture.js";
import { startTestService } from "../support/running-service.js";
import { rawTestConfig, testAwsKeys, testConfig } from "../support/test-config.js";

/**
 * Secrets of each cloud, shaped as the cloud issues them (made up, never real). A
 * provider added to the list fails to compile here until it has samples, and fails
 * below until its own declared shapes scrub them.
 */
const samples: Record<ProviderName, readonly string[]> = {
  aws: ["k8s-aws-v1.aHR0cHM6Ly9zdHMudXMtd2VzdC0yLmFtYXpvbmF3cy5jb20v", "AKIAIOSFODNN7EXAMPLE", "ASIAR2TG44V6AS3ZZE7C"],
  gcp: [
    "ya29.a0AfH6SMBx-fake_access.token-0123",
    "1//0gFakeRefreshToken-0123456789abcdef",
    "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----",
  ],
  ncp: ["k8s-ncp-v1.eyJ0aW1lc3RhbXAiOiIxNjY4NDA3NDA3ODU1In0=", "ncp_iam_BPASKR0000FAKE0000KEY0"],
  azure: ["eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiI2ZGFlNDJmOCJ9.c2lnbmF0dXJl", "abc8Q~defghijklmnopqrstuvwxyz-_.~0123456"],
  alibaba: [
    "k8s-ack-v2.eyJjbHVzdGVySWQiOiJjMCJ9",
    "LTAI5tAbCdEfGhIjKlMn",
    "STS.NUgYrLnoC37mZZCNnAbez2EE9",
    "CAISFakeSecurityToken0123456789+/=",
  ],
};

describe("every provider declares its secrets, and the logger scrubs them", () => {
  for (const provider of providers) {
    it(`${provider.name}: its own shapes scrub each of its secrets whole, and each shape is one of its secrets'`, () => {
      const { patterns, fields } = provider.secretShapes;
      assert.ok(patterns.length > 0 && fields.length > 0, "a provider declares its token and key shapes and its secret fields");
      for (const pattern of patterns) assert.ok(pattern.global, `${pattern} must be global, or it would scrub one match only`);
      for (const field of fields) assert.match(field, /^[A-Za-z_]\w*$/, "a field name pino can redact");
      const own = new SecretScrubber([provider.secretShapes]);
      for (const secret of samples[provider.name]) assert.equal(own.scrub(`a ${secret} b`), "a [REDACTED] b", secret);
      for (const pattern of patterns) {
        assert.ok(
          samples[provider.name].some((secret) => new RegExp(pattern.source, pattern.flags).test(secret)),
          `${pattern} matches none of the samples`,
        );
      }
    });
  }

  it("the logger built from the provider list scrubs every provider's secrets from messages and censors their fields", () => {
    const logs = new LogCapture();
    const logger = createLogger({ destination: logs, providers });
    const secrets = Object.values(samples).flat();
    const fields = Object.fromEntries(providers.flatMap((p) => p.secretShapes.fields).map((field) => [field, `value-of-${field}`]));
    logger.warn({ ...fields, entry: fields, error: new Error(`upstream said: ${secrets.join(" ")}`) }, "a failure");
    const line = logs.text();
    for (const value of Object.values(fields)) assert.ok(!line.includes(value), value);
    const [record] = logs.records();
    assert.deepEqual(record?.error, { type: "Error", message: `upstream said: ${secrets.map(() => "[REDACTED]").join(" ")}` });
  });
});

describe("secrets and tokens never reach logs or errors", () => {
  const logger = createLogger({ destination: new LogCapture(), providers });

  it("scrubs credential shapes from text", () => {
    const text =
      "sig k8s-aws-v1.aHR0cHM6Ly9zdHM key AKIAIOSFODNN7EXAMPLE secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY Bearer abc.def ya29.a0AfH6 eyJhbGciOi.eyJzdWIi.sig ack k8s-ack-v2.eyJjbHVzdGVySWQ id LTAI5tAbCdEfGhIjKlMn";
    const scrubbed = scrubCredentials(text, logger);
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
    assert.deepEqual(errorSummary(err, logger), {
      type: "Error",
      message: "outer",
      cause: { type: "Error", message: "inner with [REDACTED]" },
    });
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
