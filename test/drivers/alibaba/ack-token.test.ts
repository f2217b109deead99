import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ackTokenPrefix, mintAckToken } from "../../../src/drivers/alibaba/ack-token.js";
import { type FakeAlibaba, startFakeAlibaba } from "../../fakes/fake-alibaba.js";

const keys = { accessKeyId: "LTAI5tTokenTestKey0001", accessKeySecret: "alibaba-token-test-secret-abcdef012345" };
const clusterId = "c0token000000000000000000000000001";

/** Decodes a token, changes its request with `edit`, and encodes it again. */
function tampered(token: string, edit: (claim: { query: Record<string, string>; headers: Record<string, string> }) => void): string {
  const claim = JSON.parse(Buffer.from(token.slice(ackTokenPrefix.length), "base64").toString()) as {
    query: Record<string, string>;
    headers: Record<string, string>;
  };
  edit(claim);
  return ackTokenPrefix + Buffer.from(JSON.stringify(claim)).toString("base64");
}

describe("ACK RAM tokens (ack-ram-tool's k8s-ack-v2)", () => {
  let ali: FakeAlibaba;
  before(async () => {
    ali = await startFakeAlibaba({ keys: { [keys.accessKeyId]: keys.accessKeySecret }, roles: {}, clusters: {} });
  });
  after(() => ali.close());

  it("has ack-ram-tool's shape, is accepted for its cluster, and reports 10 minutes for a 15-minute validity", () => {
    const now = new Date();
    const { token, expiresAt } = mintAckToken({ keys, clusterId, now });
    assert.ok(token.startsWith("k8s-ack-v2."));
    const claim = JSON.parse(Buffer.from(token.slice(ackTokenPrefix.length), "base64").toString()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(claim), ["clusterId", "method", "path", "query", "headers"]);
    assert.deepEqual(claim.query, { ACKClusterId: clusterId });
    assert.deepEqual(Object.keys(claim.headers as object), [
      "Authorization",
      "user-agent",
      "x-acs-action",
      "x-acs-content-sha256",
      "x-acs-date",
      "x-acs-version",
    ]);
    assert.deepEqual(ali.verifyAckToken(token, clusterId), { ok: true, identity: keys.accessKeyId });
    assert.equal(expiresAt.getTime() - now.getTime(), 10 * 60_000);
    assert.ok(!token.includes(keys.accessKeySecret) && !Buffer.from(token.slice(11), "base64").toString().includes(keys.accessKeySecret));
  });

  it("fails the fake's check when a signed header, the cluster id or the query is tampered with", () => {
    const { token } = mintAckToken({ keys, clusterId, now: new Date() });
    const later = new Date(Date.now() + 60_000).toISOString().replace(/\.\d+Z$/, "Z");
    assert.equal(
      ali.verifyAckToken(
        tampered(token, (c) => (c.headers["x-acs-date"] = later)),
        clusterId,
      ).ok,
      false,
      "a re-dated request",
    );
    const retargeted = tampered(token, (c) => (c.query.ACKClusterId = "c0other00000000000000000000000009"));
    assert.equal(
      ali.verifyAckToken(retargeted, "c0other00000000000000000000000009").ok,
      false,
      "another cluster's id under the old signature",
    );
    assert.equal(ali.verifyAckToken(token, "c0other00000000000000000000000009").ok, false, "presented to another cluster");
    const extra = tampered(token, (c) => (c.headers["x-acs-extra"] = "1"));
    assert.match(JSON.stringify(ali.verifyAckToken(extra, clusterId)), /not allowed/, "a header outside the allowlist");
  });

  it("is refused outside its 15-minute window and above 4096 bytes", () => {
    const minted = new Date();
    const { token } = mintAckToken({ keys, clusterId, now: minted });
    assert.equal(ali.verifyAckToken(token, clusterId, new Date(minted.getTime() + 14 * 60_000)).ok, true);
    assert.equal(ali.verifyAckToken(token, clusterId, new Date(minted.getTime() + 16 * 60_000)).ok, false);
    const huge = tampered(token, (c) => (c.headers["user-agent"] = "x".repeat(4096)));
    assert.match(JSON.stringify(ali.verifyAckToken(huge, clusterId)), /4096/);
  });

  it("carries the STS security token of assumed-role keys, and expires with them when they end first", () => {
    const now = new Date();
    const sts = {
      accessKeyId: "STS.tokentest",
      accessKeySecret: "sts-secret",
      securityToken: "CAIS-token",
      expiresAt: new Date(now.getTime() + 5 * 60_000),
    };
    ali.keys.set(sts.accessKeyId, { secret: sts.accessKeySecret, securityToken: sts.securityToken, expiresAt: sts.expiresAt });
    const { token, expiresAt } = mintAckToken({ keys: sts, clusterId, now });
    assert.equal(ali.verifyAckToken(token, clusterId).ok, true);
    assert.deepEqual(expiresAt, sts.expiresAt);
    assert.equal(
      ali.verifyAckToken(
        tampered(token, (c) => delete c.headers["x-acs-security-token"]),
        clusterId,
      ).ok,
      false,
    );
  });
});
