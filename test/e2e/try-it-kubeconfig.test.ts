import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { parse } from "yaml";
import { embeddedConfigPath } from "../../src/config/load-config.js";
import { whileServing } from "../support/serve-process.js";
import { repoRoot } from "../support/paths.js";

/** The README's "Try it" block that writes a kubeconfig with an embedded token. */
function tryItKubeconfigBlock(readme: string): string {
  const blocks = [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1] ?? "");
  const block = blocks.find((text) => text.includes("GetKubeconfig") && !text.includes("KUBECONFIG_MODE_EXEC"));
  assert.ok(block !== undefined, "the README's Try it has a block that writes an embedded kubeconfig");
  return block;
}

/** The embedded development config, as `npm start` serves it, on free ports and with its demo files found from anywhere. */
async function embeddedConfigOnFreePorts(): Promise<unknown> {
  const raw = parse(await readFile(embeddedConfigPath, "utf8")) as {
    listen: Record<string, string>;
    credentials: Record<string, Record<string, unknown>>;
  };
  raw.listen = { grpc: "127.0.0.1:0", http: "127.0.0.1:0" };
  for (const entry of Object.values(raw.credentials))
    for (const value of Object.values(entry))
      if (typeof value === "object" && value !== null && "file" in value)
        (value as { file: string }).file = resolve(dirname(embeddedConfigPath), (value as { file: string }).file);
  return raw;
}

/**
 * Issue 22: the "Try it" kubeconfig holds a live token. Run as a user runs it, from
 * the checkout, against `cluster-token serve` on the embedded config, it must write
 * that token to a file outside the repository that only its owner can read, and
 * remove it; and a kubeconfig written in the checkout anyway is ignored by git.
 */
describe("README: the Try it kubeconfig", () => {
  it("goes to a 0600 file outside the repository, holds the token, and is removed after", async () => {
    const block = tryItKubeconfigBlock(await readFile(join(repoRoot, "README.md"), "utf8"));
    assert.ok(block.includes("127.0.0.1:8080"), "the block calls the embedded config's Connect port");
    const tmp = await mkdtemp(join(tmpdir(), "cts-try-it-"));
    try {
      await whileServing(await embeddedConfigOnFreePorts(), {}, async (svc) => {
        const before = await readdir(repoRoot);
        // Every file the block removes is described first: its mode, where it was, and how many token lines it held.
        const script = [
          `rm() { for f in "$@"; do stat -c '%a %n' "$f"; grep -c 'token: ' "$f"; done; command rm "$@"; }`,
          block.replaceAll("127.0.0.1:8080", svc.http),
        ].join("\n");
        const { stdout } = await promisify(execFile)("bash", ["-euo", "pipefail", "-c", script], {
          cwd: repoRoot,
          env: { PATH: process.env.PATH, HOME: tmp, TMPDIR: tmp },
          timeout: 60_000,
        });
        const removed = /^(\d{3}) (\S+)\n(\d+)$/m.exec(stdout);
        assert.ok(removed, `the block removes the kubeconfig it wrote: ${stdout}`);
        const [, mode, file = "", tokens] = removed;
        assert.equal(mode, "600", "readable by its owner alone");
        assert.ok(relative(repoRoot, file).startsWith(".."), `${file} is outside the repository`);
        assert.ok(file.startsWith(tmp), `${file} is in $TMPDIR`);
        assert.equal(tokens, "1", "it held the token, as the README says");
        assert.ok(!existsSync(file), "removed");
        assert.match(stdout, /token: REDACTED/, "kubectl config view shows it, the token redacted");
        assert.deepEqual(await readdir(repoRoot), before, "nothing new in the checkout");
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it("a kubeconfig written in the checkout anyway is ignored by git", async () => {
    const { stdout } = await promisify(execFile)("git", ["check-ignore", "demo.kubeconfig", "demo-exec.kubeconfig"], { cwd: repoRoot });
    assert.deepEqual(stdout.trim().split("\n"), ["demo.kubeconfig", "demo-exec.kubeconfig"]);
  });
});
