import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ClusterTokenService } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { credentialFilePollMs } from "../../src/core/credential-file-watch.js";
import { verifyEksToken } from "../fakes/eks-token-verifier.js";
import { startServeProcess } from "../support/serve-process.js";
import { rawTestConfig } from "../support/test-config.js";

const oldKey = { accessKeyId: "AKIAOLDKEY0000000001", secretAccessKey: "old/Secret+Access/Key0123456789abcdefghij" };
const newKey = { accessKeyId: "AKIANEWKEY0000000002", secretAccessKey: "new/Secret+Access/Key0123456789abcdefghij" };

/** Whether `token` is an EKS token for the demo cluster signed with `key`. */
function signedWith(token: string, key: typeof oldKey): boolean {
  const keys = new Map([[key.accessKeyId, { secretAccessKey: key.secretAccessKey }]]);
  return verifyEksToken(token, { clusterName: "demo", region: "us-west-2", keys }).ok;
}

describe("a key file rewritten in place, on the real process", () => {
  it(`drops the tokens signed with the old key within ${credentialFilePollMs / 1000} s, for every caller of the clusters using it`, async () => {
    const dir = await mkdtemp(join(tmpdir(), "cts-rotation-"));
    const writeKey = async (key: typeof oldKey) => {
      await writeFile(join(dir, "access-key-id"), `${key.accessKeyId}\n`);
      await writeFile(join(dir, "secret-access-key"), `${key.secretAccessKey}\n`);
    };
    await writeKey(oldKey);
    const raw = rawTestConfig() as { credentials: Record<string, unknown> };
    raw.credentials["aws-test"] = {
      provider: "aws",
      accessKeyId: { file: join(dir, "access-key-id") },
      secretAccessKey: { file: join(dir, "secret-access-key") },
    };
    const svc = await startServeProcess(raw);
    try {
      const client = createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${svc.grpc}` }));
      const token = async () => (await client.generateToken({ clusterId: "demo-eks" })).status!.token;
      const first = await token();
      assert.ok(signedWith(first, oldKey));
      assert.equal(await token(), first, "reused while most of its lifetime remains");
      const from = svc.lines().length;
      await writeKey(newKey);
      await svc.waitForLine(
        (l) => l.msg === "a credentials file changed; tokens signed with its old content are no longer served",
        3 * credentialFilePollMs,
        from,
      );
      await svc.waitForLine((l) => String(l.file).endsWith("secret-access-key"), 3 * credentialFilePollMs, from);
      const after = await token();
      assert.notEqual(after, first, "the token signed with the old key is no longer served");
      assert.ok(signedWith(after, newKey), "the new token is signed with the new key");
      assert.ok(!signedWith(after, oldKey));
    } finally {
      svc.child.kill("SIGTERM");
      await svc.exited();
    }
  });
});
