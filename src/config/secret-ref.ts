import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { ServiceError } from "../errors/service-error.js";

/**
 * Where a secret lives. The config never holds a secret itself, only one of these
 * references, resolved when the secret is needed, so that rotated files take effect
 * without a restart (within {@link secretFileFreshMs}).
 */
export type SecretRef = { readonly env: string } | { readonly file: string };

/** True for a `{ env }` or `{ file }` object, as validated by the config schema. */
export function isSecretRef(value: unknown): value is SecretRef {
  return typeof value === "object" && value !== null && ("env" in value || "file" in value);
}

/** Describes a reference for logs and errors without revealing the secret, e.g. `env AWS_SECRET_ACCESS_KEY`. */
export function describeSecretRef(ref: SecretRef): string {
  return "env" in ref ? `env ${ref.env}` : `file ${ref.file}`;
}

/**
 * Makes a `{ file }` reference absolute, relative to the directory of the config
 * file that named it, so that a config and its secret files can move together.
 */
export function anchorSecretRef(ref: SecretRef, configDir: string): SecretRef {
  if ("env" in ref || isAbsolute(ref.file)) return ref;
  return { file: resolve(configDir, ref.file) };
}

/**
 * How long a secret file's content is reused before it is read again. Reading it
 * for every uncached token cost an open, a stat, a read and a close, about a third
 * of the CPU of an uncached GenerateToken; Kubernetes itself takes up to a minute to
 * update a mounted Secret, so five seconds more go unnoticed.
 */
export const secretFileFreshMs = 5_000;

const fileReads = new Map<string, { readonly at: number; readonly read: Promise<string> }>();

/** The content of `file`, read at most once per {@link secretFileFreshMs}; concurrent readers share one read, and failures are not kept. */
function readSecretFile(file: string): Promise<string> {
  const now = performance.now();
  const cached = fileReads.get(file);
  if (cached && now - cached.at < secretFileFreshMs) return cached.read;
  const read = readFile(file, "utf8");
  const entry = { at: now, read };
  fileReads.set(file, entry);
  read.catch(() => {
    if (fileReads.get(file) === entry) fileReads.delete(file);
  });
  return read;
}

/**
 * Forgets the reads of `files`, so that their next use reads them again at once
 * rather than up to {@link secretFileFreshMs} later: done when a file is seen to
 * change (`core/credential-file-watch.ts`), so that nothing is signed with its old
 * content after that.
 */
export function forgetSecretFiles(files: Iterable<string>): void {
  for (const file of files) fileReads.delete(file);
}

/** A secret reference of a credentials entry, and the key that holds it. */
export interface PlacedSecretRef {
  /** The key's path in the entry, such as `secretAccessKey` (or `a.b` when nested). */
  readonly key: string;
  readonly ref: SecretRef;
}

/** Every secret reference in `value` (a credentials entry), however deep, with the key that holds it. */
export function secretRefsIn(value: unknown, key = ""): PlacedSecretRef[] {
  if (isSecretRef(value)) return [{ key, ref: value }];
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([name, inner]) => secretRefsIn(inner, key ? `${key}.${name}` : name));
}

/** Every `{ file }` reference in `value` (a credentials entry), however deep: the files its secrets are read from. */
export function secretFilesIn(value: unknown): string[] {
  return secretRefsIn(value).flatMap(({ ref }) => ("file" in ref ? [ref.file] : []));
}

/** The secret a reference points at, or why there is none. */
type Resolution = { readonly value: string } | { readonly problem: string };

/** Resolves `ref`; `fresh` reads a file now rather than reuse a read of the last {@link secretFileFreshMs}. */
async function resolution(ref: SecretRef, { fresh = false } = {}): Promise<Resolution> {
  let value: string | undefined;
  let problem = "is empty";
  if ("env" in ref) {
    value = process.env[ref.env];
    if (value === undefined) problem = "is not set";
  } else {
    try {
      value = (await (fresh ? readFile(ref.file, "utf8") : readSecretFile(ref.file))).replace(/\r?\n$/, "");
    } catch (err) {
      problem = `cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`;
    }
  }
  return value ? { value } : { problem };
}

/**
 * Reads the secret a reference points at. A file's trailing newline is dropped, as
 * `echo secret > file` adds one.
 *
 * @throws ServiceError `FailedPrecondition` with reason `SECRET_UNRESOLVABLE` when the
 *   variable is unset or empty, or the file cannot be read or is empty. The message
 *   names the reference, never its value.
 */
export async function resolveSecret(ref: SecretRef): Promise<string> {
  const resolved = await resolution(ref);
  if ("value" in resolved) return resolved.value;
  throw new ServiceError({
    reason: "SECRET_UNRESOLVABLE",
    message: `the service's secret reference (${describeSecretRef(ref)}) ${resolved.problem}`,
    metadata: "env" in ref ? { env: ref.env } : { file: ref.file },
  });
}

/**
 * Why {@link resolveSecret} would fail for `ref` now ("is not set", "is empty",
 * "cannot be read (ENOENT)"), or undefined when it would succeed; the secret itself
 * is dropped at once. A file is read afresh, so that the answer is the file's state
 * now, even while calls still use a read of the last seconds. For checks that name
 * unresolvable references ahead of the calls that need them.
 */
export async function secretProblem(ref: SecretRef): Promise<string | undefined> {
  const resolved = await resolution(ref, { fresh: true });
  return "problem" in resolved ? resolved.problem : undefined;
}
