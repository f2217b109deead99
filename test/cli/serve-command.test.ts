import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import { hashApiKey } from "../../src/auth/api-keys.js";
import { freePort } from "../support/free-port.js";
import { cliPath, repoRoot } from "../support/paths.js";
import { rawTestConfig } from "../support/test-config.js";

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the bin; when `until` matches stdout, sends SIGTERM and returns once it exits. */
function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  until?: RegExp,
  onReady?: (stdout: string, child: ChildProcess) => Promise<void>,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: repoRoot, env: { PATH: process.env.PATH, ...env } });
    let stdout = "";
    let stderr = "";
    let triggered = false;
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.stdout.on("data", (d: Buffer) => {
      stdout += d;
      if (until && !triggered && until.test(stdout)) {
        triggered = true;
        (onReady ? onReady(stdout, child) : Promise.resolve()).then(() => child.kill("SIGTERM"), reject);
      }
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

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

async function configFile(raw: unknown): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), "cts-cli-")), "config.yaml");
  await writeFile(file, typeof raw === "string" ? raw : stringify(raw));
  return file;
}

describe("cluster-token serve", () => {
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
