import { z } from "zod";
import { closestName } from "./closest-name.js";
import { keysAt, sharedKeysAt } from "./schema-keys.js";

/** A value the file holds where a name was expected is quoted up to this length, so that a pasted blob stays out. */
const maxQuotedLength = 64;

/**
 * The lines a validation issue becomes in a `ConfigError`, each naming the key it is
 * about, e.g. `clusters[0].region: is required`. `schema` is the config's schema,
 * whose keys name what a misspelled key was meant to be:
 *
 * - an unknown key is named with its likely meaning, one line each:
 *   `clusters[0]: unknown key "regoin" (did you mean "region"?)`;
 * - an entry whose `provider` is missing or unknown says so, with the providers
 *   known there, and names each of its keys that no provider knows, so that a
 *   misspelled `provder` reads as such and not as "unknown provider undefined";
 * - a value is never shown (a secret written inline by mistake must not reach a
 *   terminal or a log), except the unknown name in a provider's place.
 */
export function configProblems(issue: z.core.$ZodIssue, schema: z.core.$ZodType): string[] {
  if (issue.code === "unrecognized_keys") return unknownKeys(issue.path, issue.keys, keysAt(schema, issue.path, issue.input));
  if (issue.code === "invalid_union" && "discriminator" in issue && typeof issue.discriminator === "string")
    return unknownVariant(issue, issue.discriminator, schema);
  return [`${keyPath(issue.path)}: ${message(issue)}`];
}

/** A key's path as the file spells it (`clusters[0].region`); `(top level)` for the root. */
export function keyPath(path: readonly PropertyKey[]): string {
  const spelled = path.reduce<string>((acc, part) => {
    if (typeof part === "number") return `${acc}[${part}]`;
    return acc ? `${acc}.${String(part)}` : String(part);
  }, "");
  return spelled || "(top level)";
}

function unknownKeys(path: readonly PropertyKey[], keys: readonly string[], known: ReadonlySet<string>): string[] {
  return keys.map((key) => {
    const meant = closestName(key, known);
    return `${keyPath(path)}: unknown key ${quoted(key)}${meant === undefined ? "" : ` (did you mean "${meant}"?)`}`;
  });
}

/**
 * An entry of a union by `discriminator` (a `credentials`, `clusters` or `accounts`
 * entry by `provider`) that selects none of its options: the keys no option knows,
 * then what the discriminator holds and what it may hold.
 */
function unknownVariant(issue: z.core.$ZodIssue & { options?: unknown }, discriminator: string, schema: z.core.$ZodType): string[] {
  const entryPath = issue.path.slice(0, -1);
  const entry: Record<string, unknown> =
    typeof issue.input === "object" && issue.input !== null ? (issue.input as Record<string, unknown>) : {};
  const known = keysAt(schema, entryPath);
  const stray = Object.keys(entry).filter((key) => !known.has(key));
  const options = (Array.isArray(issue.options) ? issue.options : []).map(String);
  const value = entry[discriminator];
  const listed = options.join(", ");
  let problem: string;
  if (value === undefined) problem = `is required: one of ${listed}`;
  else if (typeof value !== "string") problem = `must be one of ${listed}, not ${describeType(value)}`;
  else {
    const meant = closestName(value, options);
    problem = `unknown ${discriminator} ${quoted(value)}${meant === undefined ? "" : ` (did you mean "${meant}"?)`}; known ${discriminator}s: ${listed}`;
  }
  return [...unknownKeys(entryPath, stray, known), `${keyPath(issue.path)}: ${problem}`, ...sharedKeyProblems(entry, entryPath, schema)];
}

/**
 * The problems of the keys every provider's entry shares (its id, its credentials
 * name), in an entry that selected no provider's schema: validated by that shared
 * schema, as they would be once `provider` is fixed.
 */
function sharedKeyProblems(entry: Record<string, unknown>, entryPath: readonly PropertyKey[], schema: z.core.$ZodType): string[] {
  const problems: string[] = [];
  for (const [key, keySchema] of sharedKeysAt(schema, entryPath)) {
    const result = z.safeParse(keySchema, entry[key], { reportInput: true });
    if (result.success) continue;
    for (const issue of result.error.issues)
      problems.push(...configProblems({ ...issue, path: [...entryPath, key, ...issue.path] }, schema));
  }
  return problems;
}

function message(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type" && issue.input === undefined && !issue.message.startsWith("is required")) return "is required";
  // zod's own words would show the value; ours say what it is, never what it holds.
  if (issue.code === "invalid_type" && issue.message.startsWith("Invalid input"))
    return `must be ${article(issue.expected)}, not ${describeType(issue.input)}`;
  return issue.message;
}

function quoted(name: string): string {
  return JSON.stringify(name.length > maxQuotedLength ? `${name.slice(0, maxQuotedLength)}…` : name);
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/** "a number", "a list", "null": what a YAML value is, in the words of the file. */
function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return article(typeof value);
}
