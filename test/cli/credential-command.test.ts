import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { startFakeServer, type FakeServer } from "../fakes/fake-http-server.js";
import { verifyEksToken } from "../fakes/eks-token-verifier.js";
import { cliPath } from "../support/paths.js";
import { startTestService, type RunningService } from "../support/running-service.js";
import { testAwsKeys } from "../support/test-config.js";

const run = promisify(execFile);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the command with a credential cache of its own, so that no run reuses another's token. */
function credential(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  const cacheDir = mkdtempSync(join(tmpdir(), "cts-credential-cache-"));
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [cliPath, "credential", ...args],
      { env: { PATH: process.env.PATH, CLUSTER_TOKEN_CACHE_DIR: cacheDir, ...env }, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

describe("cluster-token credential", () => {
  let svc: RunningService;
  let notCts: FakeServer;
  before(async () => {
    svc = await startTestService();
    notCts = await startFakeServer(() => ({ status: 200, headers: { "content-type": "application/json" }, body: '{"hello":"world"}' }));
  });
  after(async () => {
    await svc.close();
    await notCts.close();
  });

  it("prints the service's ExecCredential, as kubectl reads it", async () => {
    const out = await credential(["--cluster", "demo-eks", "--server", svc.httpUrl]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stderr, "");
    const credentialJson = JSON.parse(out.stdout) as {
      apiVersion: string;
      kind: string;
      status: { token: string; expirationTimestamp: string };
    };
    assert.equal(credentialJson.apiVersion, "client.authentication.k8s.io/v1");
    assert.equal(credentialJson.kind, "ExecCredential");
    assert.equal(
      verifyEksToken(credentialJson.status.token, {
        clusterName: "demo",
        region: "us-west-2",
        keys: new Map([[testAwsKeys.accessKeyId, { secretAccessKey: testAwsKeys.secretAccessKey }]]),
      }).ok,
      true,
    );
    assert.match(credentialJson.status.expirationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it("loads only its own few modules and Node's when it asks the service: no protobuf, gRPC or logging runtime", async () => {
    // A module hook that names every module the command resolves, on stderr.
    const dir = mkdtempSync(join(tmpdir(), "cts-module-log-"));
    writeFileSync(
      join(dir, "hook.mjs"),
      "export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write(`module ${r.url}\\n`); return r; }\n",
    );
    writeFileSync(
      join(dir, "register.mjs"),
      `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(join(dir, "hook.mjs")).href)});\n`,
    );
    const cacheDir = mkdtempSync(join(tmpdir(), "cts-credential-cache-"));
    const { stdout, stderr } = await run(
      process.execPath,
      ["--import", join(dir, "register.mjs"), cliPath, "credential", "--cluster", "demo-eks", "--server", svc.httpUrl, "--no-cache"],
      { env: { PATH: process.env.PATH, CLUSTER_TOKEN_CACHE_DIR: cacheDir } },
    );
    assert.match(stdout, /"kind":"ExecCredential"/);
    const modules = [...stderr.matchAll(/^module (\S+)$/gm)].map((m) => m[1]!);
    assert.ok(
      modules.some((url) => url.endsWith("/credential-command.js")),
      "the hook saw the command's modules",
    );
    const foreign = modules.filter((url) => !url.startsWith("node:") && !/\/dist\/src\/(cli|core|common)\/[\w.-]+\.c?js$/.test(url));
    assert.deepEqual(foreign, [], "no package is loaded");
    assert.ok(modules.length < 20, `${modules.length} modules`);
  });

  it("answers in the apiVersion KUBERNETES_EXEC_INFO asks for", async () => {
    const info = JSON.stringify({
      apiVersion: "client.authentication.k8s.io/v1beta1",
      kind: "ExecCredential",
      spec: { interactive: false },
    });
    const out = await credential(["--cluster", "demo-eks", "--server", svc.httpUrl], { KUBERNETES_EXEC_INFO: info });
    assert.equal(out.code, 0, out.stderr);
    assert.equal((JSON.parse(out.stdout) as { apiVersion: string }).apiVersion, "client.authentication.k8s.io/v1beta1");
  });

  const failures: [string, string[], Record<string, string>, RegExp][] = [
    [
      "an unknown cluster",
      ["--cluster", "nope"],
      {},
      /^cluster-token: cluster "nope" is not registered at http:\/\/127\.0\.0\.1:\d+ .*ListClusters\n$/,
    ],
    [
      "an invalid cluster id",
      ["--cluster", "Bad_ID"],
      {},
      /^cluster-token: .* rejected the request for cluster "Bad_ID": cluster_id must be/,
    ],
    [
      "malformed KUBERNETES_EXEC_INFO",
      ["--cluster", "demo-eks"],
      { KUBERNETES_EXEC_INFO: "{not json" },
      /^cluster-token: KUBERNETES_EXEC_INFO is not valid JSON/,
    ],
    [
      "an unsupported apiVersion in KUBERNETES_EXEC_INFO",
      ["--cluster", "demo-eks"],
      { KUBERNETES_EXEC_INFO: '{"apiVersion":"client.authentication.k8s.io/v1alpha1"}' },
      /asks for apiVersion "client\.authentication\.k8s\.io\/v1alpha1"; supported: /,
    ],
  ];
  for (const [what, args, env, message] of failures) {
    it(`reports ${what} on stderr with exit code 1`, async () => {
      const out = await credential([...args, "--server", svc.httpUrl], env);
      assert.equal(out.code, 1);
      assert.equal(out.stdout, "", "nothing on stdout for kubectl to misread");
      assert.match(out.stderr, message);
    });
  }

  it("reports an unreachable server", async () => {
    const out = await credential(["--cluster", "demo-eks", "--server", "http://127.0.0.1:9"]);
    assert.equal(out.code, 1);
    assert.match(
      out.stderr,
      /^cluster-token: cannot reach cluster-token-service at http:\/\/127\.0\.0\.1:9: connection refused \(ECONNREFUSED\); check --server/,
    );
  });

  it("reports a server that is not cluster-token-service", async () => {
    const out = await credential(["--cluster", "demo-eks", "--server", notCts.url]);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /did not answer with an ExecCredential/);
  });

  it("rejects bad usage with exit code 2", async () => {
    for (const args of [
      [],
      ["--cluster", "demo-eks"],
      ["--cluster", "demo-eks", "--server", "ftp://x"],
      ["--cluster", "x", "--server", svc.httpUrl, "--timeout", "0"],
      ["--bogus"],
    ]) {
      const out = await credential(args);
      assert.equal(out.code, 2, args.join(" "));
      assert.match(out.stderr, /usage: cluster-token credential --cluster ID --server URL/);
    }
  });
});
