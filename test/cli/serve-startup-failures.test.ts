import assert from "node:assert/strict";
import { type AddressInfo, createServer } from "node:net";
import { describe, it } from "node:test";
import { freePort } from "../support/free-port.js";
import { runCli } from "../support/run-cli.js";
import { writeConfigFile as configFile } from "../support/serve-process.js";
import { rawTestConfig } from "../support/test-config.js";

/** Every line of `stdout`, parsed: a line that is not JSON fails the test. */
function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function firstProblem(line: Record<string, unknown> | undefined): string {
  const problems = line?.problems;
  return Array.isArray(problems) ? String(problems[0]) : "";
}

function pick(line: Record<string, unknown> | undefined, ...keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((key) => [key, line?.[key]]));
}

describe("cluster-token serve: start-up failures", () => {
  it("refuses an invalid config with exit code 2: one JSON line naming each offending key, nothing on stderr", async () => {
    const raw = rawTestConfig() as { clusters: Record<string, unknown>[] };
    delete raw.clusters[0]!.region;
    raw.clusters[1]!.provider = "oracle";
    const file = await configFile(raw);
    const out = await runCli(["serve", "--config", file]);
    assert.equal(out.code, 2);
    assert.equal(out.stderr, "");
    const [line, ...more] = jsonLines(out.stdout);
    assert.deepEqual(more, [], "one line, nothing started");
    assert.equal(line?.level, "fatal");
    assert.equal(line?.config, file);
    assert.equal(line?.exitCode, 2);
    assert.equal(line?.msg, "cannot start: the config cannot be used (2 problems); nothing was started");
    assert.deepEqual(line?.problems, [
      "clusters[0].region: is required",
      'clusters[1].provider: unknown provider "oracle"; known providers: aws, gcp, ncp, azure, alibaba',
    ]);
  });

  it("reads CLUSTER_TOKEN_CONFIG when --config is absent", async () => {
    const out = await runCli(["serve"], { CLUSTER_TOKEN_CONFIG: "/nonexistent/cts.yaml" });
    assert.equal(out.code, 2);
    assert.equal(out.stderr, "");
    assert.deepEqual(pick(jsonLines(out.stdout)[0], "config", "problems"), {
      config: "/nonexistent/cts.yaml",
      problems: ["cannot read the file (ENOENT)"],
    });
  });

  it("refuses TLS files it cannot use with exit code 2, and an audit log it cannot open with 1, each as one JSON line", async () => {
    const raw = rawTestConfig() as Record<string, unknown>;
    raw.security = {
      tls: { certFile: "/nonexistent/server.crt", keyFile: "/nonexistent/server.key" },
      apiKeys: [{ name: "a", sha256: "a".repeat(64) }],
    };
    const tls = await runCli(["serve", "--config", await configFile(raw)]);
    assert.equal(tls.code, 2);
    assert.equal(tls.stderr, "");
    assert.deepEqual(jsonLines(tls.stdout)[0]?.problems, [
      "cannot read security.tls.certFile /nonexistent/server.crt (ENOENT)",
      "cannot read security.tls.keyFile /nonexistent/server.key (ENOENT)",
    ]);
    const audit = await runCli([
      "serve",
      "--config",
      await configFile({ ...rawTestConfig(), audit: { file: "/nonexistent/dir/audit.log" } }),
    ]);
    assert.equal(audit.code, 1);
    assert.equal(audit.stderr, "");
    const [line, ...more] = jsonLines(audit.stdout);
    assert.deepEqual(more, []);
    assert.equal(line?.level, "fatal");
    assert.equal(line?.exitCode, 1);
    assert.equal(line?.msg, "cannot start; nothing is served");
    assert.match(firstProblem(line), /ENOENT.*audit\.log/);
  });

  it("a port in use is one JSON line with exit code 1, and leaves no other port open", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const address = `127.0.0.1:${(taken.address() as AddressInfo).port}`;
    try {
      const httpPort = await freePort();
      const out = await runCli([
        "serve",
        "--config",
        await configFile(rawTestConfig()),
        "--listen-http",
        `127.0.0.1:${httpPort}`,
        "--listen-grpc",
        address,
      ]);
      assert.equal(out.code, 1);
      assert.equal(out.stderr, "");
      const [line, ...more] = jsonLines(out.stdout);
      assert.deepEqual(more, []);
      assert.deepEqual(pick(line, "level", "exitCode", "problems"), {
        level: "fatal",
        exitCode: 1,
        problems: [`cannot listen for gRPC on ${address}: listen EADDRINUSE: address already in use ${address}`],
      });
      // The gRPC listener binds first: the Connect port was never opened.
      await assert.rejects(fetch(`http://127.0.0.1:${httpPort}/`), /fetch failed/);
    } finally {
      taken.close();
    }
  });

  it("rejects unknown flags and commands with usage; serve's as a JSON line", async () => {
    const badFlag = await runCli(["serve", "--conf", "x"]);
    assert.equal(badFlag.code, 2);
    assert.equal(badFlag.stderr, "");
    const [flagLine] = jsonLines(badFlag.stdout);
    assert.deepEqual(pick(flagLine, "level", "exitCode", "msg"), {
      level: "fatal",
      exitCode: 2,
      msg: "cannot start: the command line cannot be used (1 problem); see cluster-token serve --help",
    });
    // Node's own words, which differ between its lines.
    assert.match(firstProblem(flagLine), /^Unknown option '--conf'/);
    const badListen = await runCli(["serve", "--listen-grpc", "nowhere"]);
    assert.equal(badListen.code, 2);
    assert.deepEqual(jsonLines(badListen.stdout)[0]?.problems, ['--listen-grpc must be "host:port", e.g. "127.0.0.1:0"']);
    const unknown = await runCli(["frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });
});
