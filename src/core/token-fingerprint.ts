import { hash } from "node:crypto";

/** A short, non-reversible handle for a token: the first 16 hex digits of its SHA-256. */
export function tokenFingerprint(token: string): string {
  return `sha256:${hash("sha256", token).slice(0, 16)}`;
}

const fingerprints = new WeakMap<object, string>();

/**
 * The fingerprint of a minted token, computed once per token: a token served from
 * the cache is the same object each time, so its hash is not recomputed per call.
 */
export function mintedTokenFingerprint(minted: { readonly token: string }): string {
  let fingerprint = fingerprints.get(minted);
  if (fingerprint === undefined) {
    fingerprint = tokenFingerprint(minted.token);
    fingerprints.set(minted, fingerprint);
  }
  return fingerprint;
}
