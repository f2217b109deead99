import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "./support/paths.js";

/** The longest a source file may grow before it holds more than one concept (docs/development.md). */
const maxSourceLines = 250;
/** server.ts composes; what it composes lives in src/server/. */
const maxServerLines = 120;

function files(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path, pattern);
    return pattern.test(entry.name) ? [path] : [];
  });
}

const lines = (path: string) => readFileSync(path, "utf8").split("\n").length - 1;

describe("the layout's budgets (one concept a module)", () => {
  it(`keeps every source file of src/, test/, bench/ and scripts/ within ${maxSourceLines} lines`, () => {
    const over = ["src", "test", "bench", "scripts"]
      .flatMap((dir) => files(join(repoRoot, dir), /\.c?ts$/))
      .filter((path) => lines(path) > maxSourceLines)
      .map((path) => `${relative(repoRoot, path)}: ${lines(path)}`);
    assert.deepEqual(over, []);
  });

  it(`keeps src/server.ts a short composition (within ${maxServerLines} lines)`, () => {
    assert.ok(lines(join(repoRoot, "src/server.ts")) < maxServerLines);
  });
});
