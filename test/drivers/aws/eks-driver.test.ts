import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { systemClock } from "../../../src/common/clock.js";
import { deadlineReason } from "../../../src/common/deadline.js";
import type { AwsCredentialConfig } from "../../../src/drivers/aws/aws-config.js";
import { EksTokenDriver } from "../../../src/drivers/aws/eks-driver.js";
import { createAwsCredentialSources } from "../../../src/drivers/aws/aws-credentials.js";
import type { ClusterOf } from "../../../src/core/registered-cluster.js";
import { ServiceError } from "../../../src/errors/service-error.js";
import { startFakeSts, type FakeSts } from "../../fakes/fake-sts.js";
import { settlesWithin } from "../../support/event-loop.js";

const base = { accessKeyId: "AKIAFAKEBASE00000001", secretAccessKey: "base-secret-abcdefghijklmnopqrstuvwxyz0123" };
const roleArn = "arn:aws:iam::123456789012:role/eks-token-issuer";
const cluster: ClusterOf<"aws"> = {
  id: "prod-eks",
  provider: "aws",
  region: "eu-west-1",
  name: "prod",
  displayName: "",
  labels: {},
  credentials: "issuer",
};

process.env.EKS_DRIVER_TEST_AKID = base.accessKeyId;
process.env.EKS_DRIVER_TEST_SECRET = base.secretAccessKey;
const staticKeys = { accessKeyId: { env: "EKS_DRIVER_TEST_AKID" }, secretAccessKey: { env: "EKS_DRIVER_TEST_SECRET" } };

function driverFor(entry: AwsCredentialConfig): EksTokenDriver {
  return new EksTokenDriver(createAwsCredentialSources({ issuer: entry }, { upstreamTimeoutMs: 10_000, clock: systemClock }), systemClock);
}

function driverWith(entry: Partial<AwsCredentialConfig>): EksTokenDriver {
  return driverFor({ provider: "aws", ...staticKeys, ...entry } as AwsCredentialConfig);
}

async function rejection(promise: Promise<unknown>): Promise<ServiceError> {
  const err = await promise.then(
    () => assert.fail("expected a rejection"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ServiceError, `a ServiceError, not ${String(err)}`);
  return err;
}

describe("EksTokenDriver", () => {
  let sts: FakeSts;
  before(async () => {
    sts = await startFakeSts({
      keys: { [base.accessKeyId]: { secretAccessKey: base.secretAccessKey } },
      roles: { [roleArn]: { externalId: "ext-4711", trustedKeys: [base.accessKeyId] } },
    });
  });
  after(() => sts.close());

  it("signs with static keys from env references; the token verifies for its cluster", async () => {
    const { token, expiresAt } = await driverWith({}).mintToken(cluster, AbortSignal.timeout(5000));
    assert.deepEqual(sts.verifyEksToken(token, "prod", "eu-west-1"), { ok: true, identity: base.accessKeyId });
    assert.equal(sts.verifyEksToken(token, "staging", "eu-west-1").ok, false);
    assert.ok(expiresAt.getTime() > Date.now() + 13 * 60_000 && expiresAt.getTime() <= Date.now() + 14 * 60_000);
  });

  it("assumes the role first, signed and parameterised as configured, and memoizes the result", async () => {
    sts.assumeRoleCalls.length = 0;
    const driver = driverWith({ roleArn, externalId: "ext-4711", sessionName: "ci-session", stsEndpoint: sts.url });
    const first = await driver.mintToken(cluster, AbortSignal.timeout(10_000));
    const second = await driver.mintToken(cluster, AbortSignal.timeout(10_000));
    assert.deepEqual(sts.assumeRoleCalls, [
      { roleArn, sessionName: "ci-session", externalId: "ext-4711", durationSeconds: 3600, signedWith: base.accessKeyId },
    ]);
    for (const { token } of [first, second]) {
      const url = new URL(Buffer.from(token.slice("k8s-aws-v1.".length), "base64url").toString());
      assert.ok(url.searchParams.get("X-Amz-Security-Token"), "temporary credentials carry a session token");
      assert.match(url.searchParams.get("X-Amz-Credential") ?? "", /^ASIA/);
      const verdict = sts.verifyEksToken(token, "prod", "eu-west-1");
      assert.equal(verdict.ok, true, JSON.stringify(verdict));
    }
  });

  it("keeps signing with assumed-role credentials that are due for renewal but still valid while STS is down", async () => {
    const warnings: string[] = [];
    const entry = {
      provider: "aws",
      ...staticKeys,
      roleArn,
      externalId: "ext-4711",
      durationSeconds: 900,
      stsEndpoint: sts.url,
    } as AwsCredentialConfig;
    const driver = new EksTokenDriver(
      createAwsCredentialSources({ issuer: entry }, { upstreamTimeoutMs: 10_000, clock: systemClock, warn: (_f, m) => warnings.push(m) }),
      systemClock,
    );
    const first = await driver.mintToken(cluster, AbortSignal.timeout(10_000));
    const calls = sts.assumeRoleCalls.length;
    try {
      sts.fault = { status: 503, body: "" };
      const during = await driver.mintToken(cluster, AbortSignal.timeout(10_000));
      assert.ok(sts.assumeRoleCalls.length === calls && sts.requests.length > 0, "renewal was tried");
      const verdict = sts.verifyEksToken(during.token, "prod", "eu-west-1");
      assert.equal(verdict.ok, true, JSON.stringify(verdict));
      const keyIdOf = (token: string) =>
        new URL(Buffer.from(token.slice("k8s-aws-v1.".length), "base64url").toString()).searchParams.get("X-Amz-Credential")?.split("/")[0];
      assert.equal(keyIdOf(during.token), keyIdOf(first.token), "the same temporary keys");
      assert.equal((verdict as { identity: string }).identity, roleArn);
      assert.deepEqual(warnings, ["STS failed; signing with the still valid credentials"]);
      sts.fault = { status: 403, body: "<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>", contentType: "text/xml" };
      assert.equal(
        (await rejection(driver.mintToken(cluster, AbortSignal.timeout(10_000)))).code,
        "FailedPrecondition",
        "a refusal is not an outage",
      );
    } finally {
      sts.fault = undefined;
    }
  });

  it("maps a rejected AssumeRole (wrong ExternalId) to FAILED_PRECONDITION", async () => {
    const err = await rejection(
      driverWith({ roleArn, externalId: "wrong-id", stsEndpoint: sts.url }).mintToken(cluster, AbortSignal.timeout(10_000)),
    );
    assert.equal(err.code, "FailedPrecondition");
    assert.equal(err.reason, "UPSTREAM_PERMISSION_DENIED");
    assert.equal(err.metadata.cluster_id, "prod-eks");
  });

  it("maps an unresolvable secret reference to FAILED_PRECONDITION without revealing anything", async () => {
    const err = await rejection(
      driverFor({
        provider: "aws",
        accessKeyId: { env: "EKS_DRIVER_TEST_AKID" },
        secretAccessKey: { env: "EKS_DRIVER_TEST_UNSET" },
      }).mintToken(cluster, AbortSignal.timeout(1000)),
    );
    assert.equal(err.code, "FailedPrecondition");
    assert.equal(err.reason, "SECRET_UNRESOLVABLE");
    assert.match(err.message, /env EKS_DRIVER_TEST_UNSET/);
    assert.doesNotMatch(err.message, new RegExp(base.accessKeyId));

    const fileErr = await rejection(
      driverFor({ provider: "aws", ...staticKeys, secretAccessKey: { file: "/nonexistent/secret" } }).mintToken(
        cluster,
        AbortSignal.timeout(1000),
      ),
    );
    assert.equal(fileErr.reason, "SECRET_UNRESOLVABLE");
    assert.match(fileErr.message, /ENOENT/);
  });

  for (const [fault, code, reason] of [
    [
      { status: 500, body: "<ErrorResponse><Error><Code>InternalFailure</Code></Error></ErrorResponse>", contentType: "text/xml" },
      "Unavailable",
      "UPSTREAM_UNAVAILABLE",
    ],
    [
      {
        status: 400,
        body: "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>",
        contentType: "text/xml",
      },
      "Unavailable",
      "UPSTREAM_THROTTLED",
    ],
    [{ status: 429, body: "" }, "Unavailable", "UPSTREAM_THROTTLED"],
    [{ garbage: true }, "Unavailable", "UPSTREAM_BAD_RESPONSE"],
  ] as const) {
    it(`maps an STS answer of ${"status" in fault ? `HTTP ${fault.status}` : "garbage"} to ${code} ${reason}`, async () => {
      sts.fault = fault;
      try {
        const err = await rejection(
          driverWith({ roleArn, externalId: "ext-4711", stsEndpoint: sts.url }).mintToken(cluster, AbortSignal.timeout(20_000)),
        );
        assert.equal(err.code, code);
        assert.equal(err.reason, reason);
      } finally {
        sts.fault = undefined;
      }
    });
  }

  it("maps an unreachable STS to UNAVAILABLE", async () => {
    const err = await rejection(
      driverWith({ roleArn, externalId: "ext-4711", stsEndpoint: "http://127.0.0.1:9" }).mintToken(cluster, AbortSignal.timeout(20_000)),
    );
    assert.equal(err.code, "Unavailable");
    assert.equal(err.reason, "UPSTREAM_UNREACHABLE");
  });

  it("stops waiting for a slow STS when the caller's deadline passes", async () => {
    sts.fault = { hold: true };
    try {
      const caller = new AbortController();
      const arrived = sts.requests.length;
      let settled = false;
      const failure = rejection(driverWith({ roleArn, externalId: "ext-4711", stsEndpoint: sts.url }).mintToken(cluster, caller.signal));
      failure.then(() => (settled = true)).catch(() => {});
      await sts.received(arrived + 1);
      caller.abort(deadlineReason());
      assert.ok(await settlesWithin(100, () => settled), "returned at the deadline, not when STS answered");
      assert.equal((await failure).code, "DeadlineExceeded");
    } finally {
      sts.fault = undefined;
      await sts.release();
    }
  });
});
