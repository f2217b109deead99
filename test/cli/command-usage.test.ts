import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import type { ParseArgsConfig } from "node:util";
import { type CommandName, commandUsage, usage, usageOf } from "../../src/cli/command-usage.js";
import cache from "../../src/cli/credential-cache.cjs";
import { keygenOptions } from "../../src/cli/keygen-command.js";
import { serveOptions } from "../../src/cli/serve-command.js";
import { cliPath, repoRoot } from "../support/paths.js";

/** What each command parses, from the command itself; `--help` is answered before any of them runs. */
const parsed: Record<CommandName, NonNullable<ParseArgsConfig["options"]>> = {
  serve: serveOptions,
  credential: cache.credentialOptions,
  keygen: keygenOptions,
};
const helpOption = { help: { type: "boolean", short: "h" } } as const;

function cli(...args: string[]) {
  const run = spawnSync(process.execPath, [cliPath, ...args], { cwd: repoRoot, env: { PATH: process.env.PATH }, encoding: "utf8" });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The options a command's section of the help documents: long name, short name, and the text that describes it. */
function documentedOptions(section: string): Map<string, { short?: string; text: string }> {
  const options = new Map<string, { short?: string; text: string }>();
  let last: { short?: string; text: string } | undefined;
  for (const line of section.split("\n").slice(1)) {
    const option = /^ {4}(?:-(\w), )?--([\w-]+)(.*)$/.exec(line);
    if (option) {
      last = { ...(option[1] ? { short: option[1] } : {}), text: option[3] ?? "" };
      options.set(option[2] ?? "", last);
    } else if (last && /^ {5,}\S/.test(line)) {
      last.text += ` ${line.trim()}`;
    } else if (line.trim() !== "") {
      assert.fail(`a line of the help that is neither an option nor its continuation: ${JSON.stringify(line)}`);
    }
  }
  return options;
}

describe("cluster-token help", () => {
  it("prints the whole text, every command's section in it", () => {
    const out = cli("help");
    assert.equal(out.code, 0);
    assert.equal(out.stdout, usage);
    for (const section of Object.values(commandUsage)) assert.ok(out.stdout.includes(section));
    assert.equal(cli().code, 2, "no command is a usage error, with the same text");
    assert.equal(cli().stdout, usage);
  });

  for (const command of Object.keys(parsed) as CommandName[]) {
    it(`documents every option ${command} parses, and no other, with its short name and default`, () => {
      const options: NonNullable<ParseArgsConfig["options"]> = { ...parsed[command], ...helpOption };
      const documented = documentedOptions(commandUsage[command]);
      assert.deepEqual([...documented.keys()].sort(), Object.keys(options).sort());
      for (const [name, option] of Object.entries(options)) {
        const doc = documented.get(name);
        assert.equal(doc?.short, option.short, `--${name}'s short name`);
        const value = "default" in option ? option.default : undefined;
        if (value !== undefined && value !== false)
          assert.match(doc?.text ?? "", new RegExp(`\\(default ${value}\\)`), `--${name}'s default`);
        if (option.type === "string") assert.match(doc?.text ?? "", /^ [A-Z][A-Z:_]*\s/, `--${name} names its value`);
      }
    });

    it(`answers ${command} --help, -h and help ${command} with its section, before parsing anything else`, () => {
      for (const args of [
        [command, "--help"],
        [command, "-h"],
        ["help", command],
        [command, "--no-such-flag", "--help"],
      ]) {
        const out = cli(...args);
        assert.equal(out.code, 0, args.join(" "));
        assert.equal(out.stdout, usageOf(command), args.join(" "));
      }
    });
  }

  it("refuses help for a command that does not exist", () => {
    const out = cli("help", "frobnicate");
    assert.equal(out.code, 2);
    assert.match(out.stderr, /unknown command "frobnicate"/);
  });
});
