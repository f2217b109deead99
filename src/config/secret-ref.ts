import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { ServiceError } from "../errors/service-error.js";

/**
 * Where a secret lives. The config never holds a secret itself, only one of these
 * references, resolved each time the secret is needed so that rotated files and
 * environments take effect without a restart.
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
      value = (await readFile(ref.file, "utf8")).replace(/\r?\n$/, "");
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
