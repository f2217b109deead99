import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ncpSignature, ncpStage } from "../../../src/drivers/ncp/ncp-signature.js";
import { mintNksToken, nksTokenPath, tokenLifetimeMs, v1Prefix } from "../../../src/drivers/ncp/nks-token.js";

/** ncp-iam-authenticator's upstream vector. */
const golden = {
  now: new Date(1668407407855),
  accessKey: "access",
  secretKey: "secret",
  clusterUuid: "D11328F1-ECA9-4F1B-BA22-921F61D9C5FF",
  region: "KRS",
  signature: "emeahfW4CmzsxIQ5ip0cd9yqERXJ+ZJsRfQpGNmKdXk=",
};

describe("NKS tokens", () => {
  it("reproduce the ncp-iam-authenticator vector exactly", () => {
    const { token, expiresAt } = mintNksToken(golden);
    assert.ok(token.startsWith(v1Prefix));
    const json = Buffer.from(token.slice(v1Prefix.length), "base64").toString("utf8");
    assert.equal(
      json,
      `{"timestamp":"1668407407855","accessKey":"access","signature":"${golden.signature}","path":"/iam/krs-v1/user?clusterUuid=D11328F1-ECA9-4F1B-BA22-921F61D9C5FF"}`,
    );
    assert.equal(token, v1Prefix + Buffer.from(json).toString("base64"), "standard, padded base64");
    assert.equal(expiresAt.getTime() - golden.now.getTime(), tokenLifetimeMs);
    assert.ok(tokenLifetimeMs < 5 * 60_000, "inside NCP's 5-minute timestamp window");
  });

  it("signs `GET <path>\\n<timestamp>\\n<accessKey>` with HMAC-SHA256", () => {
    assert.equal(ncpSignature("secret", "GET", nksTokenPath("KRS", golden.clusterUuid), "1668407407855", "access"), golden.signature);
  });

  it("choose the stage by region as ncp-iam-authenticator does", () => {
    const cases: [string, string][] = [
      ["", "v1"],
      ["KR", "v1"],
      ["FKR", "v1"],
      ["FIN", "v1"],
      ["KCS", "v1"],
      ["XCSY", "v1"],
      ["SGN", "sgn-v1"],
      ["JPN", "jpn-v1"],
      ["KRS", "krs-v1"],
      ["USWN", "uswn-v1"],
    ];
    for (const [region, stage] of cases) assert.equal(ncpStage(region, "v1"), stage, region);
    assert.equal(ncpStage("SGN", "v2"), "sgn-v2");
    assert.equal(ncpStage("KR", "v2"), "v2");
    assert.equal(nksTokenPath("SGN", "U"), "/iam/sgn-v1/user?clusterUuid=U");
  });
});
