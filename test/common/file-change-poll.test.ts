import assert from "node:assert/strict";
import { mkdtemp, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { FileChangePoll } from "../../src/common/file-change-poll.js";

describe("FileChangePoll", () => {
  it("reports a changed file once per change, and nothing while nothing changes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cts-poll-"));
    const [a, b] = [join(dir, "a"), join(dir, "b")];
    await writeFile(a, "one");
    await writeFile(b, "one");
    const changed: string[] = [];
    const poll = new FileChangePoll({ files: [a, b], intervalMs: 1, onChange: (file) => changed.push(file) });
    try {
      await poll.polled();
      await poll.polled();
      assert.deepEqual(changed, [], "the first poll is the baseline; an unchanged file is not reported");
      await writeFile(a, "two, rewritten in place");
      await poll.polled();
      // A poll may see the file truncated and then written: each is a change.
      assert.ok(changed.length >= 1 && changed.every((file) => file === a), String(changed));
      const seen = changed.length;
      await poll.polled();
      assert.equal(changed.length, seen, "a change is reported once");
      await rm(b);
      await poll.polled();
      assert.deepEqual(changed.slice(seen), [b], "a file that vanished changed too");
    } finally {
      poll.close();
    }
  });

  it("notices a Kubernetes-style Secret update: the symlinked directory swapped atomically", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cts-poll-"));
    // kubelet's layout: key -> ..data/key, ..data -> ..<timestamp>; an update swaps ..data with a rename.
    const v1 = await mkdtemp(join(dir, "..v1-"));
    await writeFile(join(v1, "key"), "old key");
    await symlink(v1, join(dir, "..data"));
    await symlink(join(dir, "..data", "key"), join(dir, "key"));
    const changed: string[] = [];
    const poll = new FileChangePoll({ files: [join(dir, "key")], intervalMs: 1, onChange: (file) => changed.push(file) });
    try {
      await poll.polled();
      const v2 = await mkdtemp(join(dir, "..v2-"));
      await writeFile(join(v2, "key"), "new key");
      await symlink(v2, join(dir, "..data_tmp"));
      await rename(join(dir, "..data_tmp"), join(dir, "..data"));
      await poll.polled();
      assert.deepEqual(changed, [join(dir, "key")]);
    } finally {
      poll.close();
    }
  });

  it("reports nothing after it is closed", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cts-poll-"));
    const file = join(dir, "a");
    await writeFile(file, "one");
    const changed: string[] = [];
    const poll = new FileChangePoll({ files: [file], intervalMs: 1, onChange: (f) => changed.push(f) });
    await poll.polled();
    poll.close();
    await writeFile(file, "two");
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(changed, []);
  });

  it("releases a wait asked for after it was closed, instead of leaving it pending for ever", async () => {
    const poll = new FileChangePoll({ files: [], intervalMs: 60_000, onChange: () => {} });
    poll.close();
    const released = await Promise.race([
      poll.polled().then(() => true),
      new Promise((resolve) => setTimeout(() => resolve(false), 1_000)),
    ]);
    assert.equal(released, true);
  });
});
