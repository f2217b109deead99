import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";
import { providers } from "../src/providers.js";
import { repoRoot } from "./support/paths.js";

/** What names a cloud besides its provider name: its Kubernetes product. */
const productNames = ["eks", "gke", "nks", "aks", "ack"];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.c?ts$/.test(entry.name) ? [path] : [];
  });
}

/** The words of the code of `text`, its comments left out: identifiers split at case changes, strings at punctuation. */
function codeWords(text: string): string[] {
  // A parsed tree, not the raw scanner: the scanner reads the text after a template's `${…}` as code.
  const source = ts.createSourceFile("file.ts", text, ts.ScriptTarget.Latest, false);
  const words: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) || ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) {
      const value = node.text.replace(/([a-z0-9])([A-Z])/g, "$1 $2");
      words.push(...value.split(/[^A-Za-z0-9]+/).map((word) => word.toLowerCase()));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return words;
}

describe("the provider list", () => {
  it("is the only place outside a cloud's own folder that names a cloud (comments aside)", () => {
    const names = new Set([...providers.map((p) => p.name), ...productNames]);
    const src = join(repoRoot, "src");
    const offenders: string[] = [];
    for (const file of sourceFiles(src)) {
      const path = relative(src, file);
      if (path === "providers.ts" || providers.some((p) => path.startsWith(join("drivers", p.name)))) continue;
      const named = [...new Set(codeWords(readFileSync(file, "utf8")).filter((word) => names.has(word)))];
      if (named.length > 0) offenders.push(`src/${path}: ${named.join(", ")}`);
    }
    assert.deepEqual(offenders, []);
  });

  it("names each cloud by its folder", () => {
    for (const provider of providers) {
      assert.ok(
        sourceFiles(join(repoRoot, "src", "drivers", provider.name)).some((file) => file.endsWith(`${provider.name}-provider.ts`)),
        provider.name,
      );
    }
  });
});
