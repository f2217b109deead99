import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { KubeconfigMode } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import cache from "../../src/cli/credential-cache.cjs";
import { defaultExecCredentialApiVersion } from "../../src/core/exec-credential.js";

const { callerIdentity, readCachedCredential, writeCachedCredential } = cache;
import { cliPath } from "../support/paths.js";
import { startTestService } from "../support/running-service.js";
import { rawTestConfig, testConfig } from "../support/test-config.js";

function credential(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [cliPath, "credential", ...args],
      { env: { PATH: process.env.PATH, ...env }, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

const tokenOf = (stdout: string) => (JSON.parse(stdout) as { status: { token: string } }).status.token;
const execCredential = (expiresInMs: number, token = "k8s-aws-v1.cached") =>
  JSON.stringify({
    apiVersion: "client.authentication.k8s.io/v1",
    kind: "ExecCredential",
    status: { token, expirationTimestamp: new Date(Date.now() + expiresInMs).toISOString() },
  });
const key = { server: "http://127.0.0.1:1", cluster: "demo-eks", apiVersion: "client.authentication.k8s.io/v1", identity: "none" };

describe("cluster-token credential: the client-side cache", () => {
  it("reuses a cached token, even with the service down, in a private directory; --no-cache asks the service", async () => {
    const home = mkdtempSync(join(tmpdir(), "cts-home-"));
    const svc = await startTestService();
    const args = ["--cluster", "demo-eks", "--server", svc.httpUrl];
    const first = await credential(args, { HOME: home });
    assert.equal(first.code, 0, first.stderr);
    const second = await credential(args, { HOME: home });
    assert.equal(tokenOf(second.stdout), tokenOf(first.stdout));
    assert.equal((await svc.audit()).filter((l) => l.outcome === "issued").length, 1, "the second run never reached the service");
    const dir = join(home, ".kube", "cache", "cluster-token");
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const files = readdirSync(dir);
    assert.equal(files.length, 1);
    assert.equal(statSync(join(dir, files[0]!)).mode & 0o777, 0o600);
    assert.ok(!files[0]!.includes("demo") && !readdirSync(dir).some((f) => f.endsWith(".tmp")), "hashed names, no leftovers");
    await svc.close();
    const down = await credential(args, { HOME: home });
    assert.equal(down.code, 0, "a cached run works with the service down");
    assert.equal(tokenOf(down.stdout), tokenOf(first.stdout));
    const uncached = await credential([...args, "--no-cache"], { HOME: home });
    assert.equal(uncached.code, 1);
    assert.match(uncached.stderr, /cannot reach cluster-token-service/);
  });

  it("keys the cache by cloud identity in both the ESM command and the CommonJS fast path, run as exec kubeconfigs say", async () => {
    // A credentials name may begin with "-": the exec kubeconfig's arguments must still parse.
    const raw = rawTestConfig() as { credentials: Record<string, unknown>; publicUrl?: string };
    raw.publicUrl = "https://cts.example.com";
    raw.credentials["-readonly"] = raw.credentials["aws-test"];
    const svc = await startTestService(testConfig(raw));
    try {
      const home = mkdtempSync(join(tmpdir(), "cts-home-"));
      const as = async (identity: string) => {
        const { kubeconfig } = await svc.connect.getKubeconfig({ clusterId: "demo-eks", identity, mode: KubeconfigMode.EXEC });
        const { users } = parse(kubeconfig) as { users: { user: { exec: { args: string[] } } }[] };
        const args = users[0]!.user.exec.args.slice(1);
        args[args.indexOf("--server") + 1] = svc.httpUrl;
        return credential(args, { HOME: home });
      };
      const issued = async () =>
        (await svc.audit()).filter((l) => l.outcome === "issued" && l.rpc === "GenerateToken").map((l) => l.identity);
      const readonly = await as("-readonly");
      assert.equal(readonly.code, 0, readonly.stderr);
      const own = await as("aws-test");
      assert.equal(own.code, 0, own.stderr);
      assert.deepEqual(await issued(), ["-readonly", "aws-test"], "a token cached for one identity is never reused for another");
      const again = await as("-readonly");
      assert.equal(tokenOf(again.stdout), tokenOf(readonly.stdout));
      assert.deepEqual(await issued(), ["-readonly", "aws-test"], "found by the fast path under the identity it was written with");
      assert.equal(readdirSync(join(home, ".kube", "cache", "cluster-token")).length, 2);
    } finally {
      await svc.close();
    }
  });

  it("keys the cache by server, cluster, apiVersion and a hash of the caller's key, never the key", () => {
    const dir = mkdtempSync(join(tmpdir(), "cts-cache-"));
    const alice = { ...key, identity: callerIdentity({ apiKey: "cts_alice_secret" }) };
    writeCachedCredential(dir, alice, execCredential(10 * 60_000));
    assert.ok(readCachedCredential(dir, alice));
    for (const other of [
      { ...alice, identity: callerIdentity({ apiKey: "cts_bob_secret" }) },
      { ...alice, cluster: "other" },
      { ...alice, server: "http://127.0.0.1:2" },
      { ...alice, apiVersion: "client.authentication.k8s.io/v1beta1" },
      { ...alice, cloudIdentity: "eks-readonly" },
    ]) {
      assert.equal(readCachedCredential(dir, other), undefined);
    }
    const written = readdirSync(dir)
      .map((f) => readFileSync(join(dir, f), "utf8"))
      .join("");
    assert.ok(!written.includes("cts_alice_secret") && !alice.identity.includes("cts_alice_secret"));
  });

  it("defaults to the core's ExecCredential apiVersion in its CommonJS fast path", () => {
    assert.equal(cache.defaultApiVersion, defaultExecCredentialApiVersion);
  });

  it("reuses a token only while at least 60 s of its life remain", () => {
    const dir = mkdtempSync(join(tmpdir(), "cts-cache-"));
    writeCachedCredential(dir, key, execCredential(90_000));
    assert.ok(readCachedCredential(dir, key));
    assert.equal(readCachedCredential(dir, key, Date.now() + 31_000), undefined);
  });

  it("ignores and replaces a cache file that is corrupt, truncated, foreign or readable by others", async () => {
    const svc = await startTestService();
    try {
      const cacheDir = mkdtempSync(join(tmpdir(), "cts-cache-"));
      chmodSync(cacheDir, 0o700);
      const args = ["--cluster", "demo-eks", "--server", svc.httpUrl];
      const first = await credential(args, { CLUSTER_TOKEN_CACHE_DIR: cacheDir });
      const file = join(cacheDir, readdirSync(cacheDir)[0]!);
      const good = readFileSync(file, "utf8");
      const tamper: [string, () => void][] = [
        ["corrupt", () => writeFileSync(file, "{ not json")],
        ["truncated", () => writeFileSync(file, good.slice(0, good.length / 2))],
        [
          "foreign",
          () =>
            writeFileSync(
              file,
              JSON.stringify({ format: "someone-else/v1", execCredential: execCredential(600_000, "k8s-aws-v1.foreign") }),
            ),
        ],
        ["readable by others", () => chmodSync(file, 0o644)],
      ];
      let issued = 1;
      for (const [what, damage] of tamper) {
        damage();
        const out = await credential(args, { CLUSTER_TOKEN_CACHE_DIR: cacheDir });
        assert.equal(out.code, 0, `${what}: ${out.stderr}`);
        assert.notEqual(tokenOf(out.stdout), "k8s-aws-v1.foreign", what);
        issued++;
        assert.equal((await svc.audit()).filter((l) => l.outcome === "issued").length, issued, `${what}: the service was asked again`);
        assert.equal(statSync(file).mode & 0o777, 0o600, `${what}: replaced by a private file`);
      }
      assert.ok(tokenOf(first.stdout));
    } finally {
      await svc.close();
    }
  });
});
