import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./paths.js";

/**
 * A command block of the docs that a test runs, marked by an HTML comment on the
 * line before its fence (invisible to a reader):
 *
 *     <!-- run: NAME -->                  a command block of the script NAME
 *     <!-- run: NAME, serves -->          the block that starts the service, as in a second terminal
 *     <!-- run: NAME, prints TEXT -->     its output must contain TEXT
 */
export interface RunnableBlock {
  /** The file, relative to the repository, and the line of the block's first command. */
  readonly file: string;
  readonly line: number;
  /** The script the block belongs to: its blocks run in the order written. */
  readonly script: string;
  readonly serves: boolean;
  readonly prints: string | undefined;
  /** The commands, as a user copies them. */
  readonly text: string;
}

/** The marker of a runnable block, the fence it must be followed by, and the block itself. */
const runnableBlockPattern = /^<!-- run: ([a-z0-9-]+)(?:, (serves|prints (.+?)))? -->\n```sh\n([\s\S]*?)^```$/gm;

/** The README and every page of docs/, relative to the repository: the Markdown a user reads. */
export function markdownFiles(): string[] {
  const pages = readdirSync(join(repoRoot, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort();
  return ["README.md", ...pages.map((name) => `docs/${name}`)];
}

/**
 * Every runnable block of `file`, in order. A marker that does not stand right
 * before a `sh` fence, or that says something other than `serves` or `prints`,
 * throws: a mistyped marker must not leave a block silently untested.
 */
export function runnableBlocks(file: string): RunnableBlock[] {
  const text = readFileSync(join(repoRoot, file), "utf8");
  const blocks = [...text.matchAll(runnableBlockPattern)].map((match) => ({
    file,
    line: text.slice(0, match.index).split("\n").length + 2,
    script: match[1] ?? "",
    serves: match[2] === "serves",
    prints: match[3],
    text: match[4] ?? "",
  }));
  const markers = text.match(/^<!-- run:/gm)?.length ?? 0;
  if (markers !== blocks.length)
    throw new Error(`${file}: ${markers} run markers, but ${blocks.length} of them stand before a sh block in the form the test reads`);
  return blocks;
}

/** The runnable blocks of the README and docs/, grouped by script, each script's blocks in the order written. */
export function runnableScripts(): Map<string, RunnableBlock[]> {
  const scripts = new Map<string, RunnableBlock[]>();
  for (const file of markdownFiles())
    for (const block of runnableBlocks(file)) {
      const script = scripts.get(block.script) ?? [];
      if (script.length > 0 && script[0]?.file !== file)
        throw new Error(`script ${block.script} is in ${script[0]?.file} and ${file}: one script, one page`);
      scripts.set(block.script, [...script, block]);
    }
  return scripts;
}

/** A shell command as one line: continuation lines joined, runs of blanks made one. */
export function oneLine(command: string): string {
  return command
    .replace(/\\\n/g, " ")
    .replace(/[ \t]+/g, " ")
    .trim();
}
