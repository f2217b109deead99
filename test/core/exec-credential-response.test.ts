import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { execCredentialResponse } from "../../src/core/exec-credential-response.js";

const v1 = "client.authentication.k8s.io/v1";
const beta = "client.authentication.k8s.io/v1beta1";

describe("execCredentialResponse", () => {
  it("is built once per token and apiVersion, frozen, and carries the token's own expiry", () => {
    const minted = { token: "k8s-aws-v1.abc", expiresAt: new Date("2026-11-24T10:14:00.123Z") };
    const first = execCredentialResponse(minted, v1);
    assert.equal(execCredentialResponse(minted, v1), first, "a reused token answers with the same object");
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.status), "frozen, so a transport may keep its encoding");
    assert.equal(first.apiVersion, v1);
    assert.equal(first.kind, "ExecCredential");
    assert.equal(first.status?.token, minted.token);
    assert.equal(timestampDate(first.status!.expirationTimestamp as never).getTime(), minted.expiresAt.getTime());
    const other = execCredentialResponse(minted, beta);
    assert.notEqual(other, first);
    assert.equal(other.apiVersion, beta);
    const fresh = execCredentialResponse({ token: "k8s-aws-v1.def", expiresAt: minted.expiresAt }, v1);
    assert.notEqual(fresh, first, "another token, another response");
    assert.equal(fresh.status?.token, "k8s-aws-v1.def");
  });
});
