import { type GlobToken, globTokens } from "./glob.js";

/**
 * One part of the shape of the ids a source can make: a literal run, or a run of one
 * or more cluster-id characters (a placeholder of an account's id template).
 */
export type IdShapePart = { readonly literal: string } | "run";

/** A position's matcher: one given character, any one id character, or any run of them (zero or more). */
type Item = string | "any" | "star";

/** The characters of cluster ids: ids hold no "/", so `*` and `**` stand for the same runs in them. */
const idCharacter = /^[a-z0-9.-]$/;

function globItems(tokens: readonly GlobToken[]): Item[] {
  return tokens.map((token) => {
    if (typeof token !== "string") return token.literal;
    return token === "one" ? "any" : "star";
  });
}

function shapeItems(shape: readonly IdShapePart[]): Item[] {
  return shape.flatMap((part): Item[] => (part === "run" ? ["any", "star"] : [...part.literal]));
}

/** The state reached when `a` and `b` each read one character at once, or undefined when no character fits both. */
function step(a: Item, b: Item): [number, number] | undefined {
  if (a === "star" && b === "star") return undefined; // a loop on both: nothing new
  if (a === "star") return b === "any" || idCharacter.test(b) ? [0, 1] : undefined;
  if (b === "star") return a === "any" || idCharacter.test(a) ? [1, 0] : undefined;
  if (a === "any" && b === "any") return [1, 1];
  if (a === "any") return idCharacter.test(b) ? [1, 1] : undefined;
  if (b === "any") return idCharacter.test(a) ? [1, 1] : undefined;
  return a === b && idCharacter.test(a) ? [1, 1] : undefined;
}

/**
 * Whether the glob `pattern` (a grant's `clusters` entry) matches at least one
 * cluster id of `shape`, such as every id an account's template can make: a search of
 * the two patterns read side by side, in time proportional to the product of their
 * lengths. It never says no for an id the shape can make, so config validation that
 * relies on it refuses nothing a discovered cluster could need.
 */
export function globMayMatch(pattern: string, shape: readonly IdShapePart[]): boolean {
  const a = globItems(globTokens(pattern));
  const b = shapeItems(shape);
  const width = b.length + 1;
  const seen = new Uint8Array((a.length + 1) * width);
  const pending: number[] = [0];
  seen[0] = 1;
  const visit = (i: number, j: number) => {
    const state = i * width + j;
    if (seen[state] === 0) {
      seen[state] = 1;
      pending.push(state);
    }
  };
  for (let state = pending.pop(); state !== undefined; state = pending.pop()) {
    const i = Math.floor(state / width);
    const j = state % width;
    if (i === a.length && j === b.length) return true;
    const x = a[i];
    const y = b[j];
    // A run may also be empty: move past it without reading.
    if (x === "star") visit(i + 1, j);
    if (y === "star") visit(i, j + 1);
    if (x === undefined || y === undefined) continue;
    const next = step(x, y);
    if (next) visit(i + next[0], j + next[1]);
  }
  return false;
}
