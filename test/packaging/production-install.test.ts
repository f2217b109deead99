import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ClusterTokenService } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { repoRoot } from "../support/paths.js";
import { startServeProcess } from "../support/serve-process.js";
import { rawTestConfig, testAwsEnv } from "../support/test-config.js";
import { argsOf, entrypointOf, parseDockerfile, stageNamed } from "./dockerfile.js";

const run = promisify(execFile);
const stages = parseDockerfile(readFileSync(join(repoRoot, "Dockerfile"), "utf8"));
const build = stageNamed(stages, "build");
const install = stageNamed(stages, "install");
const runtime = stages.at(-1)!;

interface LockEntry {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  link?: boolean;
  os?: string[];
  cpu?: string[];
}

/** What `npm ci --omit=dev` must install: every locked package that is not dev-only and fits this platform. */
function expectedFromLock(lock: { packages: Record<string, LockEntry> }): Map<string, string> {
  const fits = (allowed: string[] | undefined, value: string) =>
    !allowed || allowed.includes(value) || (allowed.some((a) => a.startsWith("!")) && !allowed.includes(`!${value}`));
  const expected = new Map<string, string>();
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === "" || entry.dev || entry.link) continue;
    if (entry.optional && !(fits(entry.os, process.platform) && fits(entry.cpu, process.arch))) continue;
    expected.set(path, entry.version!);
  }
  return expected;
}

/** Every package under `root`/node_modules, nested ones included, keyed as the lock file keys them. */
function installedPackages(root: string, prefix = ""): Map<string, string> {
  const found = new Map<string, string>();
  const modules = join(root, "node_modules");
  if (!existsSync(modules)) return found;
  const names = readdirSync(modules)
    .filter((name) => !name.startsWith("."))
    .flatMap((name) => (name.startsWith("@") ? readdirSync(join(modules, name)).map((scoped) => `${name}/${scoped}`) : [name]));
  for (const name of names) {
    const dir = join(modules, name);
    const key = `${prefix}node_modules/${name}`;
    found.set(key, (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version);
    for (const [nested, version] of installedPackages(dir, `${key}/`)) found.set(nested, version);
  }
  return found;
}

/** Runs a Dockerfile RUN line here: the image's /pkg and /app become temporary folders. */
async function runStep(command: string, dirs: { pkg: string; app: string }, cwd: string): Promise<void> {
  const local = command.replace(/(?<![\w.-])\/pkg(?=[/\s]|$)/g, dirs.pkg).replace(/(?<![\w.-])\/app(?=[/\s]|$)/g, dirs.app);
  // Offline when npm's cache has the tarballs; the versions come from the lock file either way.
  await run("sh", ["-c", local], { cwd, timeout: 200_000, env: { ...process.env, npm_config_prefer_offline: "true" } });
}

/** Whether this Node accepts a command-line flag (--disable-sigusr1 exists from Node 22.14 on). */
async function nodeAccepts(flag: string): Promise<boolean> {
  return run(process.execPath, [flag, "-e", "0"]).then(
    () => true,
    () => false,
  );
}

describe("the image: the Dockerfile's own install steps, run without Docker", () => {
  const dirs = { pkg: "", app: "" };
  before(async () => {
    dirs.pkg = await mkdtemp(join(tmpdir(), "cts-pkg-"));
    dirs.app = await mkdtemp(join(tmpdir(), "cts-app-"));
    const pack = argsOf(build, "RUN").filter((step) => step.includes("npm pack"));
    assert.equal(pack.length, 1, "one RUN of the build stage packs the package");
    await runStep(pack[0]!, dirs, repoRoot);
    for (const step of argsOf(install, "RUN")) await runStep(step, dirs, dirs.app);
  });

  it("runs a maintained distroless Node 24 as non-root, built on the same Node line", () => {
    assert.match(runtime.image, /^gcr\.io\/distroless\/nodejs24-debian13:nonroot(@sha256:[0-9a-f]{64})?$/);
    assert.deepEqual(argsOf(runtime, "USER"), ["65532:65532"]);
    for (const stage of [build, install]) assert.match(stage.image, /^node:24-trixie-slim(@sha256:[0-9a-f]{64})?$/, "Node 24 on Debian 13");
    assert.deepEqual(argsOf(install, "COPY"), ["--from=build /pkg/ /pkg/"], "the install stage starts from the packed package only");
    assert.deepEqual(argsOf(runtime, "COPY"), ["--from=install /app /app"]);
  });

  it("installs from the lock file: every installed version is the lock's, and nothing else is installed", () => {
    const lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> };
    const expected = expectedFromLock(lock);
    const installed = installedPackages(dirs.app);
    assert.ok(expected.size > 50, `the lock has ${expected.size} production packages`);
    const differences = [...new Set([...expected.keys(), ...installed.keys()])]
      .filter((path) => expected.get(path) !== installed.get(path))
      .map(
        (path) => `${path}: lock ${expected.get(path) ?? "(not locked for production)"}, installed ${installed.get(path) ?? "(missing)"}`,
      );
    assert.deepEqual(differences, [], "the installed tree is exactly the lock's production tree");
    for (const devOnly of ["typescript", "@biomejs/biome", "@bufbuild/buf", "@bufbuild/protoc-gen-es"]) {
      assert.ok(!installed.has(`node_modules/${devOnly}`), `${devOnly} is a dev dependency and is not installed`);
    }
    assert.ok(existsSync(join(dirs.app, "descriptors", "cluster-token.binpb")), "the descriptor set ships");
    assert.ok(!existsSync(join(dirs.app, "dist", "test")), "tests are not packed");
  });

  it("serves from the installed package with the ENTRYPOINT's command; SIGUSR1 opens no inspector", { timeout: 60_000 }, async (t) => {
    const [node, ...rest] = entrypointOf(runtime);
    assert.equal(node, "/nodejs/bin/node", "distroless's node");
    const script = rest.findIndex((arg) => !arg.startsWith("--"));
    const nodeFlags = rest.slice(0, script);
    assert.ok(nodeFlags.includes("--disable-sigusr1"), "SIGUSR1 must never open the inspector");
    assert.deepEqual(rest.slice(script), ["/app/dist/src/cli/bin.cjs", "serve", "--config", "/etc/cluster-token/config.yaml"]);
    const supported: string[] = [];
    for (const flag of nodeFlags) {
      if (await nodeAccepts(flag)) supported.push(flag);
      else t.diagnostic(`Node ${process.version} has no ${flag}; the image's Node 24 has it (the Node 22, 24 and 26 runs test it)`);
    }
    const svc = await startServeProcess(rawTestConfig(), {
      nodeArgs: supported,
      bin: rest[script]!.replace(/^\/app/, dirs.app),
      cwd: dirs.app,
      env: testAwsEnv,
    });
    try {
      const client = createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${svc.grpc}` }));
      const { status } = await client.generateToken({ clusterId: "demo-eks" });
      assert.match(status?.token ?? "", /^k8s-aws-v1\./);
      if (supported.includes("--disable-sigusr1")) {
        svc.child.kill("SIGUSR1");
        // The inspector announces itself on standard error as it opens; give it a generous second to do so.
        const deadline = Date.now() + 1_000;
        while (Date.now() < deadline && !/Debugger listening/.test(svc.stderr())) await new Promise((r) => setTimeout(r, 50));
        assert.doesNotMatch(svc.stderr(), /Debugger listening/, "SIGUSR1 opened the inspector");
        assert.match((await client.generateToken({ clusterId: "demo-eks" })).status?.token ?? "", /^k8s-aws-v1\./, "still serving");
      }
      svc.child.kill("SIGTERM");
      assert.deepEqual(await svc.exited(), { code: 0, signal: null });
    } finally {
      svc.child.kill("SIGKILL");
    }
  });
});
