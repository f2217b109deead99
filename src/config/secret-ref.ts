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

/** Every `{ file }` reference in `value` (a credentials entry), however deep: the files its secrets are read from. */
export function secretFilesIn(value: unknown): string[] {
  if (isSecretRef(value)) return "file" in value ? [value.file] : [];
  if (typeof value !== "object" || value === null) return [];
  return Object.values(value).flatMap(secretFilesIn);
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
  let value: string | undefined;
  let problem = "is empty";
  if ("env" in ref) {
    value = process.env[ref.env];
    if (value === undefined) problem = "is not set";
  } else {
    try {
      value = (await readSecretFile(ref.file)).replace(/\r?\n$/, "");
    } catch (err) {
      problem = `cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`;
    }
  }
  if (value) return value;
  throw new ServiceError({
    reason: "SECRET_UNRESOLVABLE",
    message: `the service's secret reference (${describeSecretRef(ref)}) ${problem}`,
    metadata: "env" in ref ? { env: ref.env } : { file: ref.file },
  });
}
