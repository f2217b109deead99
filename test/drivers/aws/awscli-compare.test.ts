import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { mintEksToken, v1Prefix } from "../../../src/drivers/aws/eks-token.js";

const run = promisify(execFile);
const credentials = { accessKeyId: "ASIAR2TG44V6AS3ZZE7C", secretAccessKey: "4KD5cntGcVmLWRdF5wvNRuzNL5Qxmp6OKVY6Fz/Q" };

function shape(token: string) {
  assert.ok(token.startsWith(v1Prefix));
  const url = new URL(Buffer.from(token.slice(v1Prefix.length), "base64url").toString("utf8"));
  return {
    scheme: url.protocol,
    host: url.host,
    path: url.pathname,
    queryKeys: [...url.searchParams.keys()].sort(),
    signedHeaders: url.searchParams.get("X-Amz-SignedHeaders"),
    expires: url.searchParams.get("X-Amz-Expires"),
    credentialScope: url.searchParams.get("X-Amz-Credential")?.split("/").slice(2).join("/"),
  };
}

describe("EKS token compared with `aws eks get-token`", () => {
  it("has awscli's scheme, host, path, query keys and signed headers", async () => {
    const { stdout } = await run(
      "aws",
      ["eks", "get-token", "--cluster-name", "test-cluster", "--region", "us-west-2", "--output", "json"],
      {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          AWS_CONFIG_FILE: "/dev/null",
          AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        },
      },
    );
    const awscli = JSON.parse(stdout) as { kind: string; status: { token: string } };
    assert.equal(awscli.kind, "ExecCredential");
    const ours = await mintEksToken({ credentials, region: "us-west-2", clusterName: "test-cluster", now: new Date() });
    assert.deepEqual(shape(ours.token), shape(awscli.status.token));
    assert.equal(shape(ours.token).signedHeaders, "host;x-k8s-aws-id");
  });
});
