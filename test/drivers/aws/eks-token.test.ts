import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clusterIdHeader, mintEksToken, tokenLifetimeMs, v1Prefix } from "../../../src/drivers/aws/eks-token.js";
import { stsHostForRegion } from "../../../src/drivers/aws/sts-host.js";
import { verifyEksToken } from "../../fakes/eks-token-verifier.js";

/** aws-iam-authenticator's golden vector (pkg/token): fixed key, region, cluster and time. */
const golden = {
  credentials: { accessKeyId: "ASIAR2TG44V6AS3ZZE7C", secretAccessKey: "4KD5cntGcVmLWRdF5wvNRuzNL5Qxmp6OKVY6Fz/Q" },
  region: "us-west-2",
  clusterName: "test-cluster",
  now: new Date("2023-04-28T00:00:00Z"),
  signature: "e211dba77aba9dc44b0b6be38b8eaad092599c5157f6314444c5b9d85747f5ce",
  expiry: "2023-04-28T00:14:00.000Z",
};

function decode(token: string): URL {
  assert.ok(token.startsWith(v1Prefix), "token has the k8s-aws-v1. prefix");
  const encoded = token.slice(v1Prefix.length);
  assert.match(encoded, /^[A-Za-z0-9_-]+$/, "unpadded base64url");
  return new URL(Buffer.from(encoded, "base64url").toString("utf8"));
}

describe("mintEksToken", () => {
  it("reproduces the aws-iam-authenticator golden vector exactly", async () => {
    const { token, expiresAt } = await mintEksToken(golden);
    const url = decode(token);
    assert.equal(url.searchParams.get("X-Amz-Signature"), golden.signature);
    assert.equal(expiresAt.toISOString(), golden.expiry);
    assert.equal(url.searchParams.get("X-Amz-Date"), "20230428T000000Z");
    assert.equal(url.searchParams.get("X-Amz-Credential"), "ASIAR2TG44V6AS3ZZE7C/20230428/us-west-2/sts/aws4_request");
  });

  it("presigns GetCallerIdentity on the regional STS host with exactly host;x-k8s-aws-id signed", async () => {
    const url = decode((await mintEksToken(golden)).token);
    assert.equal(url.protocol, "https:");
    assert.equal(url.host, "sts.us-west-2.amazonaws.com");
    assert.equal(url.pathname, "/");
    assert.equal(url.searchParams.get("Action"), "GetCallerIdentity");
    assert.equal(url.searchParams.get("Version"), "2011-06-15");
    assert.equal(url.searchParams.get("X-Amz-Algorithm"), "AWS4-HMAC-SHA256");
    assert.equal(url.searchParams.get("X-Amz-Expires"), "60");
    assert.equal(url.searchParams.get("X-Amz-SignedHeaders"), "host;x-k8s-aws-id");
    assert.equal(url.searchParams.has(clusterIdHeader), false, "the cluster header is signed, not put in the URL");
    assert.equal(url.searchParams.has("X-Amz-Security-Token"), false, "no session token for long-term keys");
  });

  it("is accepted by an independent EKS/STS verifier for its own cluster only", async () => {
    const keys = new Map([[golden.credentials.accessKeyId, { secretAccessKey: golden.credentials.secretAccessKey }]]);
    const { token } = await mintEksToken(golden);
    const inWindow = new Date(golden.now.getTime() + 10 * 60_000);
    assert.deepEqual(verifyEksToken(token, { clusterName: "test-cluster", region: "us-west-2", keys, now: inWindow }), {
      ok: true,
      identity: "ASIAR2TG44V6AS3ZZE7C",
    });
    const other = verifyEksToken(token, { clusterName: "other-cluster", region: "us-west-2", keys, now: inWindow });
    assert.deepEqual(other, { ok: false, reason: "signature does not match" });
    const late = verifyEksToken(token, {
      clusterName: "test-cluster",
      region: "us-west-2",
      keys,
      now: new Date(golden.now.getTime() + 16 * 60_000),
    });
    assert.equal(late.ok, false);
  });

  it("adds X-Amz-Security-Token for temporary credentials, and the verifier requires it", async () => {
    const credentials = { ...golden.credentials, sessionToken: "FwoGZXIvYXdzEXAMPLESESSIONTOKEN+/=" };
    const url = decode((await mintEksToken({ ...golden, credentials })).token);
    assert.equal(url.searchParams.get("X-Amz-Security-Token"), credentials.sessionToken);
    const keys = new Map([
      [credentials.accessKeyId, { secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken }],
    ]);
    const token = (await mintEksToken({ ...golden, credentials, now: new Date() })).token;
    assert.equal(verifyEksToken(token, { clusterName: "test-cluster", region: "us-west-2", keys }).ok, true);
  });

  it("never reports an expiry past the signing credentials' own", async () => {
    const soon = new Date(golden.now.getTime() + 5 * 60_000);
    const { expiresAt } = await mintEksToken({ ...golden, credentials: { ...golden.credentials, sessionToken: "t", expiration: soon } });
    assert.equal(expiresAt.getTime(), soon.getTime());
    const later = new Date(golden.now.getTime() + 60 * 60_000);
    const capped = await mintEksToken({ ...golden, credentials: { ...golden.credentials, sessionToken: "t", expiration: later } });
    assert.equal(capped.expiresAt.getTime() - golden.now.getTime(), tokenLifetimeMs);
  });

  it("signs at whole seconds, so the expiry matches X-Amz-Date plus 14 minutes", async () => {
    const now = new Date("2024-01-02T03:04:05.987Z");
    const { token, expiresAt } = await mintEksToken({ ...golden, now });
    assert.equal(decode(token).searchParams.get("X-Amz-Date"), "20240102T030405Z");
    assert.equal(expiresAt.toISOString(), "2024-01-02T03:18:05.000Z");
  });
});

describe("stsHostForRegion", () => {
  it("is partition-aware", () => {
    assert.equal(stsHostForRegion("us-west-2"), "sts.us-west-2.amazonaws.com");
    assert.equal(stsHostForRegion("cn-north-1"), "sts.cn-north-1.amazonaws.com.cn");
    assert.equal(stsHostForRegion("cn-northwest-1"), "sts.cn-northwest-1.amazonaws.com.cn");
    assert.equal(stsHostForRegion("us-gov-west-1"), "sts.us-gov-west-1.amazonaws.com");
    assert.equal(stsHostForRegion("us-iso-east-1"), "sts.us-iso-east-1.c2s.ic.gov");
    assert.equal(stsHostForRegion("us-isob-east-1"), "sts.us-isob-east-1.sc2s.sgov.gov");
  });

  it("signs China-region tokens for the .com.cn host", async () => {
    const url = decode((await mintEksToken({ ...golden, region: "cn-north-1" })).token);
    assert.equal(url.host, "sts.cn-north-1.amazonaws.com.cn");
    assert.match(url.searchParams.get("X-Amz-Credential") ?? "", /\/cn-north-1\/sts\/aws4_request$/);
  });
});
