/**
 * Just enough of a Dockerfile parser for tests that run an image's own steps without a
 * Docker daemon: stages with their base image and instructions, line continuations and
 * comments handled, so that a test executes what the Dockerfile says rather than a copy.
 */

/** One instruction: its upper-case keyword and the rest of its (joined) line. */
export interface Instruction {
  keyword: string;
  args: string;
}

/** One build stage: `FROM image [AS name]` and the instructions up to the next FROM. */
export interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** The stages of a Dockerfile, in order. */
export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    if (pending === "" && (line.trim() === "" || line.trimStart().startsWith("#"))) continue;
    if (pending !== "" && line.trimStart().startsWith("#")) continue; // comments inside a continuation
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push((pending + line).trim());
    pending = "";
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const space = line.indexOf(" ");
    const keyword = line.slice(0, space).toUpperCase();
    const args = line.slice(space + 1).trim();
    if (keyword === "FROM") {
      const [image, as, name] = args.split(/\s+/);
      stages.push({ image: image!, name: as?.toUpperCase() === "AS" ? name : undefined, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${keyword} before the first FROM`);
      stage.instructions.push({ keyword, args });
    }
  }
  return stages;
}

/** The stage named `name`; throws when there is none. */
export function stageNamed(stages: Stage[], name: string): Stage {
  const stage = stages.find((s) => s.name === name);
  if (!stage) throw new Error(`no stage named ${name}`);
  return stage;
}

/** The arguments of every `keyword` instruction of a stage (shell form only for RUN). */
export function argsOf(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** The exec-form array of the stage's ENTRYPOINT. */
export function entrypointOf(stage: Stage): string[] {
  const [entrypoint] = argsOf(stage, "ENTRYPOINT");
  if (!entrypoint?.startsWith("[")) throw new Error("the ENTRYPOINT must be in exec form");
  return JSON.parse(entrypoint) as string[];
}
