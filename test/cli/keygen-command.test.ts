import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hashApiKey } from "../../src/auth/api-keys.js";
import { runCli } from "../support/run-cli.js";

describe("cluster-token keygen", () => {
  it("keygen prints a key once and the hash that matches it", async () => {
    const out = await runCli(["keygen", "--name", "ci-deployer", "--json"]);
    assert.equal(out.code, 0);
    const { name, key, sha256 } = JSON.parse(out.stdout) as { name: string; key: string; sha256: string };
    assert.equal(name, "ci-deployer");
    assert.equal(sha256, hashApiKey(key));
    const human = await runCli(["keygen", "--name", "ops"]);
    assert.match(
      human.stdout,
      /^# API key for "ops"\. Give it to the caller now: it is shown once and stored nowhere\.\ncts_[A-Za-z0-9_-]{43}\n\n# Add to the service config:\nsecurity:\n {2}apiKeys:\n {4}- name: ops\n {6}sha256: [0-9a-f]{64}\n$/,
    );
    assert.equal((await runCli(["keygen"])).code, 2);
  });

  it("refuses a name the config would refuse, so that it never prints an entry the service rejects", async () => {
    for (const name of ["ci:deployer", "a/b", "x".repeat(129)]) {
      const out = await runCli(["keygen", "--name", name]);
      assert.equal(out.code, 2, name);
      assert.equal(out.stdout, "", "no key printed");
    }
  });
});
