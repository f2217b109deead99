import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, it } from "node:test";
import { markdownFiles } from "../support/doc-blocks.js";
import { repoRoot } from "../support/paths.js";

/** A Markdown file's text outside fenced code blocks and inline code, where links and headings are what they seem. */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```$/gm, "").replace(/`[^`\n]*`/g, "``");
}

/** The anchor GitHub gives a heading, before repeats are numbered: lowercased, punctuation dropped, spaces as hyphens. */
function anchorOf(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/`/g, "")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\- _]/gu, "")
    .replace(/ /g, "-");
}

/** The anchors of a page's headings, repeats numbered as GitHub numbers them. */
function headingAnchors(file: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const text = readFileSync(join(repoRoot, file), "utf8").replace(/^```[\s\S]*?^```$/gm, "");
  for (const [, heading = ""] of text.matchAll(/^#{1,6} (.+)$/gm)) {
    const anchor = anchorOf(heading);
    const n = seen.get(anchor) ?? 0;
    seen.set(anchor, n + 1);
    anchors.add(n === 0 ? anchor : `${anchor}-${n}`);
  }
  return anchors;
}

/** Every relative link of `file`: its target, as a path from the repository root, and its anchor. */
function relativeLinks(file: string): { target: string; anchor: string | undefined; raw: string }[] {
  const links = [];
  for (const [, raw = ""] of prose(readFileSync(join(repoRoot, file), "utf8")).matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(raw)) continue;
    const [path = "", anchor] = raw.split("#");
    const target = path === "" ? file : normalize(join(dirname(file), decodeURIComponent(path)));
    links.push({ target, anchor, raw });
  }
  return links;
}

/** The `##` headings of a page and the list before the first of them, its table of contents. */
function tableOfContents(file: string): { headings: string[]; toc: string } {
  const text = readFileSync(join(repoRoot, file), "utf8").replace(/^```[\s\S]*?^```$/gm, "");
  const first = text.search(/^## /m);
  const headings = [...text.matchAll(/^## (.+)$/gm)].map((match) => match[1] ?? "");
  return { headings, toc: first < 0 ? "" : text.slice(0, first) };
}

describe("the docs: links, tables of contents, index and layout", () => {
  const files = markdownFiles();
  const pages = files.filter((file) => file.startsWith("docs/"));

  it("every relative link of the README and docs/ names a file that exists, and a heading of it when it has an anchor", () => {
    const broken: string[] = [];
    let checked = 0;
    for (const file of files)
      for (const { target, anchor, raw } of relativeLinks(file)) {
        checked += 1;
        if (relative(repoRoot, join(repoRoot, target)).startsWith("..")) broken.push(`${file}: ${raw} leaves the repository`);
        else if (!existsSync(join(repoRoot, target))) broken.push(`${file}: ${raw} names nothing`);
        else if (anchor !== undefined) {
          if (!target.endsWith(".md") || statSync(join(repoRoot, target)).isDirectory())
            broken.push(`${file}: ${raw} has an anchor in a non-page`);
          else if (!headingAnchors(target).has(anchor)) broken.push(`${file}: ${raw}: ${target} has no heading #${anchor}`);
        }
      }
    assert.deepEqual(broken, []);
    assert.ok(checked > 100, `the links were read (${checked})`);
  });

  it("every page of docs/ opens with a table of contents that links each of its sections", () => {
    for (const page of pages) {
      const { headings, toc } = tableOfContents(page);
      assert.ok(headings.length >= 2, `${page} has sections`);
      for (const heading of headings)
        assert.ok(toc.includes(`](#${anchorOf(heading)})`), `${page}: the table of contents links "${heading}"`);
    }
  });

  it("docs/README.md lists every page, and every list of pages puts security before benchmarks", () => {
    const index = readFileSync(join(repoRoot, "docs", "README.md"), "utf8");
    for (const page of pages.filter((p) => p !== "docs/README.md"))
      assert.ok(index.includes(`](${page.slice("docs/".length)})`), `docs/README.md lists ${page}`);
    for (const file of files) {
      const text = readFileSync(join(repoRoot, file), "utf8");
      const security = text.search(/\]\((docs\/)?security\.md\)/);
      const benchmarks = text.search(/\]\((docs\/)?benchmarks\.md\)/);
      if (security >= 0 && benchmarks >= 0) assert.ok(security < benchmarks, `${file}: security is listed before benchmarks`);
    }
  });

  it("every file and folder the layout in docs/development.md names exists", () => {
    const page = readFileSync(join(repoRoot, "docs", "development.md"), "utf8");
    const block = /^## Layout\n[\s\S]*?^```\n([\s\S]*?)^```$/m.exec(page)?.[1];
    assert.ok(block, "docs/development.md has a layout block");
    const named = [...block.matchAll(/^(\S+)\s/gm)].map((match) => match[1] ?? "");
    assert.ok(named.length > 20, `the layout names the tree (${named.length} entries)`);
    assert.deepEqual(
      named.filter((path) => !existsSync(join(repoRoot, path))),
      [],
      "named in the layout but not in the tree",
    );
    // And the other way round: every folder of src/ and every folder git tracks at the top is named.
    const tracked = execFileSync("git", ["ls-files"], { cwd: repoRoot, encoding: "utf8" }).split("\n");
    const folders = new Set(tracked.filter((path) => path.includes("/")).map((path) => `${path.split("/")[0]}/`));
    for (const path of tracked) if (/^src\/[^/]+\//.test(path)) folders.add(`${path.split("/").slice(0, 2).join("/")}/`);
    assert.ok(folders.has("src/core/") && folders.has("docs/"), "git lists the tree");
    assert.deepEqual(
      [...folders].filter((folder) => !named.some((path) => path.startsWith(folder))).sort(),
      [],
      "in the tree but not in the layout",
    );
  });
});
