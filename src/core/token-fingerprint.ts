import { createHash } from "node:crypto";

/** A short, non-reversible handle for a token: the first 16 hex digits of its SHA-256. */
export function tokenFingerprint(token: string): string {
  return `sha256:${createHash("sha256").update(token).digest("hex").slice(0, 16)}`;
}
