import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "../support/paths.js";
import { runCli } from "../support/run-cli.js";
import { writeConfigFile as configFile } from "../support/serve-process.js";
import { rawTestConfig } from "../support/test-config.js";

describe("cluster-token serve", () => {
  it("serves a config until SIGTERM, then exits 0", async () => {
    const keys = {
      CTS_TEST_AWS_ACCESS_KEY_ID: process.env.CTS_TEST_AWS_ACCESS_KEY_ID,
      CTS_TEST_AWS_SECRET_ACCESS_KEY: process.env.CTS_TEST_AWS_SECRET_ACCESS_KEY,
      // A warning on demand (SIGUSR2), so that this holds on every Node line, whichever dependency warns there.
      NODE_OPTIONS: `--require "${join(repoRoot, "test", "support", "fixtures", "warn-on-sigusr2.cjs")}"`,
    };
    const config = await configFile(rawTestConfig());
    const out = await runCli(["serve", "--config", config], keys, /"msg":"serving"/, async (stdout, child) => {
      const http = /"http":"([^"]+)"/.exec(stdout)![1];
      const res = await fetch(`http://${http}/clustertoken.v1.ClusterTokenService/GenerateToken`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"clusterId":"demo-eks"}',
      });
      assert.equal(res.status, 200);
      await fetch(`http://${http}/clustertoken.v1.ClusterTokenService/GetKubeconfig`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"clusterId":"no-endpoint"}',
      });
      let seen = "";
      const warned = new Promise<void>((resolve) =>
        child.stdout!.on("data", (d: Buffer) => {
          seen += d;
          if (seen.includes("CTS_TEST_WARNING")) resolve();
        }),
      );
      child.kill("SIGUSR2");
      await warned;
    });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stderr, "", "warnings and errors go through the JSON logger, not raw to stderr");
    const lines = out.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { msg?: string; warning?: { type: string; code?: string; message: string } });
    const warning = lines.find((line) => line.warning?.code === "CTS_TEST_WARNING");
    assert.deepEqual(
      { msg: warning?.msg, ...warning?.warning },
      {
        msg: "process warning",
        type: "TestWarning",
        code: "CTS_TEST_WARNING",
        message: "first line second line, with [REDACTED] in it",
      },
      "one line, multi-line text joined, the key scrubbed",
    );
    assert.doesNotMatch(out.stdout, /DEVELOPMENT MODE/);
    assert.match(out.stdout, /"msg":"shutting down"/);
    assert.match(out.stdout, /"code":"OK"/, "gRPC code names in the access log");
    assert.match(out.stdout, /"code":"UNAVAILABLE"/, "gRPC code names for errors too");
  });

  it("starts on the embedded default config, warning loudly, and mints a demo token", async () => {
    // Free ports, so that this passes while the service runs on the embedded config's own ports.
    const out = await runCli(
      ["serve", "--listen-grpc", "127.0.0.1:0", "--listen-http", "127.0.0.1:0"],
      {},
      /"msg":"serving"/,
      async (stdout) => {
        const http = /"http":"([^"]+)"/.exec(stdout)![1];
        const res = await fetch(`http://${http}/clustertoken.v1.ClusterTokenService/GenerateToken`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: '{"clusterId":"demo-eks"}',
        });
        const body = (await res.json()) as { status: { token: string } };
        assert.match(body.status.token, /^k8s-aws-v1\./);
      },
    );
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /"level":"warn".*DEVELOPMENT MODE/);
  });
});
