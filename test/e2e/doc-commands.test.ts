import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { parse } from "yaml";
import { embeddedConfigPath } from "../../src/config/load-config.js";
import { markdownFiles, oneLine, type RunnableBlock, runnableScripts } from "../support/doc-blocks.js";
import { DocTerminal, startServingBlock } from "../support/doc-terminal.js";
import { freePort } from "../support/free-port.js";
import { cliPath, repoRoot } from "../support/paths.js";

const run = promisify(execFile);
/** What a file written by the docs must not hold unless only its owner can read it: a private key, an API key, a token. */
const secretPattern = /PRIVATE KEY|\bcts_[A-Za-z0-9_-]{20,}|k8s-aws-v1\./;
const loopbackPort = /127\.0\.0\.1:(\d{2,5})\b/g;

/**
 * The first page's start block, `npm ci && npm start`, as the test runs it: the
 * checkout is installed and built already (the suite needs it), and the embedded
 * config's ports are named on the command line, so that the port map below moves
 * them to free ones (a developer's own `npm start` may hold the real ones).
 */
function asStarted(block: RunnableBlock): string {
  if (block.text.trim() !== "npm ci && npm start") return block.text;
  const start = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { scripts: { start: string } }).scripts.start;
  assert.equal(start, "node dist/src/cli/bin.cjs serve", "npm start serves the embedded config, taking serve's flags after --");
  const { listen } = parse(readFileSync(embeddedConfigPath, "utf8")) as { listen: { grpc: string; http: string } };
  return `npm start -- --listen-grpc ${listen.grpc} --listen-http ${listen.http}\n`;
}

/** Every regular file under `dir`, with its mode. */
async function filesUnder(dir: string): Promise<{ path: string; mode: number }[]> {
  const found: { path: string; mode: number }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      found.push({ path, mode: (await stat(path)).mode & 0o777 });
    }
  return found;
}

/** What the checkout holds, as git and a directory listing see it: a script must leave both as they were. */
async function checkoutState(): Promise<string> {
  const { stdout } = await run("git", ["status", "--porcelain", "--untracked-files=all"], { cwd: repoRoot });
  return `${stdout}\n${(await readdir(repoRoot)).sort().join("\n")}`;
}

/** Shell commands in `text`, as a reader counts them: continuation lines and here-documents belong to their command. */
function commandCount(text: string): number {
  let count = 0;
  let hereDoc: string | undefined;
  for (const line of text.replace(/\\\n/g, " ").split("\n")) {
    if (hereDoc !== undefined) {
      if (line.trim() === hereDoc) hereDoc = undefined;
      continue;
    }
    if (line.trim() === "" || line.trim().startsWith("#")) continue;
    count += 1;
    hereDoc = /<<-?\s*'?"?(\w+)/.exec(line)?.[1];
  }
  return count;
}

/**
 * Runs one script of the docs as a user runs it, from the checkout: its blocks in
 * one terminal (the serving block in a second), with `cluster-token` on PATH as
 * `npm link` puts it, and HOME and TMPDIR in a fresh directory that is removed after.
 */
async function runScript(blocks: RunnableBlock[]): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), "cts-doc-"));
  const [home, tmpDir, bin] = ["home", "tmp", "bin"].map((name) => join(tmp, name)) as [string, string, string];
  for (const dir of [home, tmpDir, bin]) await mkdir(dir);
  await writeFile(join(bin, "cluster-token"), `#!/bin/sh\nexec '${process.execPath}' '${cliPath}' "$@"\n`);
  await chmod(join(bin, "cluster-token"), 0o755);
  const env = { PATH: `${bin}:${process.env.PATH}`, HOME: home, TMPDIR: tmpDir };
  // Every file a block removes is described first: its mode, where it was, and whether it held a secret.
  const removals = join(tmp, "removed.tsv");
  const rmWrapper = `rm() { local f; for f in "$@"; do if [ -f "$f" ]; then printf '%s\\t%s\\t%s\\n' "$(stat -c %a "$f")" "$(realpath "$f")" "$(grep -cE '${secretPattern.source}' "$f" || true)" >> '${removals}'; fi; done; command rm "$@"; }`;

  const texts = blocks.map((block) => (block.serves ? asStarted(block) : block.text));
  const ports = new Map<string, number>();
  for (const text of texts)
    for (const [, port = ""] of text.matchAll(loopbackPort)) if (!ports.has(port)) ports.set(port, await freePort());
  const onFreePorts = (text: string) => text.replace(loopbackPort, (_, port: string) => `127.0.0.1:${ports.get(port)}`);

  const before = await checkoutState();
  const terminal = new DocTerminal(repoRoot, env);
  const servers: (() => Promise<void>)[] = [];
  try {
    await terminal.paste(rmWrapper, "the rm wrapper");
    for (const [i, block] of blocks.entries()) {
      const where = `${block.file}:${block.line} (${block.script})`;
      const text = onFreePorts(texts[i] ?? "");
      if (block.serves) {
        servers.push(await startServingBlock(text, repoRoot, env, where));
        continue;
      }
      const output = await terminal.paste(text, where);
      if (block.prints !== undefined) assert.ok(output.includes(block.prints), `${where} prints ${block.prints}; it printed: ${output}`);
    }
    assert.equal(await terminal.close(), 0, "the terminal ends cleanly");
  } finally {
    await terminal.close().catch(() => {});
    for (const stop of servers) await stop();
  }
  try {
    assert.equal(await checkoutState(), before, "nothing in the checkout changed");
    const removed = existsSync(removals) ? (await readFile(removals, "utf8")).trim().split("\n") : [];
    for (const [mode, file = "", secrets] of removed.map((line) => line.split("\t"))) {
      if (secrets === "0") continue;
      assert.equal(mode, "600", `${file} held a secret: readable by its owner alone`);
      assert.ok(relative(repoRoot, file).startsWith(".."), `${file} is outside the checkout`);
      assert.ok(!existsSync(file), `${file} was removed`);
    }
    for (const { path, mode } of await filesUnder(tmp))
      if (path !== removals && secretPattern.test(await readFile(path, "latin1")))
        assert.equal(mode & 0o077, 0, `${path} holds a secret and is readable by others (mode ${mode.toString(8)})`);
    if (blocks[0]?.script === "try-it")
      assert.ok(
        removed.some((line) => line.split("\t")[2] !== "0"),
        "Try it writes its kubeconfig, which holds a token, to a file it removes",
      );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Issue 22: every command block of the quick starts runs, as written, against the
 * real process, and the test fails when one breaks; nothing it writes lands in the
 * repository. The blocks are marked in the Markdown (see test/support/doc-blocks.ts).
 */
describe("the docs' command blocks, run as a user runs them", () => {
  const scripts = runnableScripts();

  it("the first page's Try it and the secure quick start are marked to run, and the quick start takes under ten commands", () => {
    assert.deepEqual([scripts.get("try-it")?.[0]?.file, scripts.get("quick-start")?.[0]?.file], ["README.md", "docs/quick-start.md"]);
    for (const blocks of scripts.values()) assert.equal(blocks.filter((block) => block.serves).length, 1, "one block starts the service");
    const quickStart = (scripts.get("quick-start") ?? []).map((block) => commandCount(block.text));
    assert.ok(quickStart.reduce((a, b) => a + b, 0) < 10, `the quick start's commands: ${quickStart.join(" + ")}`);
  });

  for (const [name, blocks] of scripts) it(`${name} (${blocks[0]?.file})`, () => runScript(blocks));

  it("every command a console example shows is one that a runnable block runs", () => {
    const runnable = new Set([...scripts.values()].flat().flatMap((block) => block.text.split(/(?<!\\)\n/).map(oneLine)));
    let shown = 0;
    for (const file of markdownFiles())
      for (const [, body = ""] of readFileSync(join(repoRoot, file), "utf8").matchAll(/^```console\n([\s\S]*?)^```$/gm))
        for (const [, command = ""] of body.matchAll(/^\$ (.*)$/gm)) {
          shown += 1;
          assert.ok(runnable.has(oneLine(command)), `${file}: "${command}" is not run by any marked block`);
        }
    assert.ok(shown > 0, "the first page's example is a console block");
  });

  it("a kubeconfig written in the checkout anyway is ignored by git", async () => {
    const { stdout } = await run("git", ["check-ignore", "demo.kubeconfig", "demo-exec.kubeconfig"], { cwd: repoRoot });
    assert.deepEqual(stdout.trim().split("\n"), ["demo.kubeconfig", "demo-exec.kubeconfig"]);
  });
});
