import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { acs3Authorization, acsDate, sha256Hex } from "../../../src/drivers/alibaba/acs3-signature.js";

describe("ACS3-HMAC-SHA256", () => {
  it("reproduces the open-API utility's published vector (darabonba-openapi-util, Test_GetAuthorization)", () => {
    const authorization = acs3Authorization(
      {
        method: "",
        pathname: "",
        query: { test: "ok", empty: "" },
        headers: { "x-acs-test": "http", "x-acs-TEST": "https" },
        payloadHash: "55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23",
      },
      "acesskey",
      "secret",
    );
    assert.equal(
      authorization,
      "ACS3-HMAC-SHA256 Credential=acesskey,SignedHeaders=x-acs-test,Signature=4ab59fffe3c5738ff8a2729f90cc04fe18b02a4b15b2102cbaf92f9ff3df2ea3",
    );
  });

  it("signs host and content-type, not other headers, and changes with any signed byte", () => {
    const request = {
      method: "GET",
      pathname: "/k8s/c1/user_config",
      query: { PrivateIpAddress: "false" },
      headers: { host: "cs.cn-hangzhou.aliyuncs.com", "x-acs-action": "DescribeClusterUserKubeconfig", "user-agent": "a" },
      payloadHash: sha256Hex(""),
    };
    const signed = acs3Authorization(request, "id", "secret");
    assert.match(signed, /SignedHeaders=host;x-acs-action,/);
    assert.equal(acs3Authorization({ ...request, headers: { ...request.headers, "user-agent": "b" } }, "id", "secret"), signed);
    assert.notEqual(acs3Authorization({ ...request, query: { PrivateIpAddress: "true" } }, "id", "secret"), signed);
  });

  it("formats x-acs-date as UTC to the second", () => {
    assert.equal(acsDate(new Date("2026-11-24T05:06:07.891Z")), "2026-11-24T05:06:07Z");
  });
});
