// CommonJS on purpose: `cluster-token.cjs` answers a cached credential from here without starting Node's ESM
// loader, which alone costs about a fifth of a bare Node start. It uses Node's built-ins only.
import crypto = require("node:crypto");
import fs = require("node:fs");
import os = require("node:os");
import path = require("node:path");
import util = require("node:util");

const { createHash, randomBytes } = crypto;
const { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } = fs;
const { join } = path;

/** Marks a cache file as ours; anything else in the directory is ignored. */
const format = "cluster-token-credential-cache/v1";
/** A cached token is reused only while at least this much of its life remains, as kubectl's own exec cache does. */
const minRemainingMs = 60_000;

/** What a cached credential is for: a token is reused only for the same server, cluster, cloud identity, apiVersion and caller. */
interface CacheKey {
  server: string;
  cluster: string;
  apiVersion: string;
  /** From {@link callerIdentity}: a hash of the API key or client certificate, never the key itself. */
  identity: string;
  /** The cloud identity asked for (`--identity`); empty or absent when none was named, as before identities existed. */
  cloudIdentity?: string | undefined;
}

/** The caller's identity for cache keys: a SHA-256 of what it presents, so no key material is written to disk. */
function callerIdentity({ apiKey, cert }: { apiKey?: string | undefined; cert?: Buffer | undefined }): string {
  const hash = (what: string | Buffer) => createHash("sha256").update(what).digest("hex");
  if (apiKey) return `key:${hash(apiKey)}`;
  if (cert) return `cert:${hash(cert)}`;
  return "none";
}

/** `~/.kube/cache/cluster-token`, next to kubectl's own caches; `CLUSTER_TOKEN_CACHE_DIR` overrides it. */
function credentialCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CLUSTER_TOKEN_CACHE_DIR || join(os.homedir(), ".kube", "cache", "cluster-token");
}

function fileOf(dir: string, key: CacheKey): string {
  // Without a cloud identity the file keeps the name it had before identities existed, so those tokens stay usable.
  const parts = [key.server, key.cluster, key.apiVersion, key.identity, ...(key.cloudIdentity ? [key.cloudIdentity] : [])];
  const name = createHash("sha256").update(JSON.stringify(parts)).digest("hex");
  return join(dir, `${name}.json`);
}

/** True for a path that is ours alone: owned by this user, of the expected type, with no group or other access. */
function isPrivate(path: string, type: "file" | "dir"): boolean {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (!stat || (type === "file" ? !stat.isFile() : !stat.isDirectory())) return false;
  return stat.uid === process.getuid?.() && (stat.mode & 0o077) === 0;
}

/**
 * The cached ExecCredential text for `key`, if one is there, private, well formed,
 * and valid for at least another minute. Anything else (corrupt, truncated,
 * foreign, readable by others, a symlink) is ignored; the next write replaces it.
 */
function readCachedCredential(dir: string, key: CacheKey, now = Date.now()): string | undefined {
  const file = fileOf(dir, key);
  try {
    if (!isPrivate(dir, "dir") || !isPrivate(file, "file")) return undefined;
    const entry = JSON.parse(readFileSync(file, "utf8")) as { format?: unknown; execCredential?: unknown };
    if (entry?.format !== format || typeof entry.execCredential !== "string") return undefined;
    const credential = JSON.parse(entry.execCredential) as {
      kind?: unknown;
      apiVersion?: unknown;
      status?: { token?: unknown; expirationTimestamp?: unknown };
    };
    const expiry =
      typeof credential?.status?.expirationTimestamp === "string" ? Date.parse(credential.status.expirationTimestamp) : Number.NaN;
    const usable =
      credential.kind === "ExecCredential" && credential.apiVersion === key.apiVersion && typeof credential.status?.token === "string";
    return usable && expiry - now >= minRemainingMs ? entry.execCredential : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stores `execCredential` for `key`: in a 0700 directory, as a 0600 file written
 * to a temporary name and renamed into place, so that concurrent kubectl processes
 * never read a half-written file. Best effort: a cache that cannot be written is
 * simply not used.
 */
function writeCachedCredential(dir: string, key: CacheKey, execCredential: string): void {
  const file = fileOf(dir, key);
  const temp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!isPrivate(dir, "dir")) return;
    const fd = openSync(temp, "wx", 0o600);
    try {
      writeSync(fd, JSON.stringify({ format, execCredential }));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch {
    rmSync(temp, { force: true });
  }
}

/** The options of `cluster-token credential`, shared by the full command and the cached fast path. */
const credentialOptions = {
  cluster: { type: "string" },
  identity: { type: "string" },
  server: { type: "string" },
  timeout: { type: "string", default: "10" },
  "ca-file": { type: "string" },
  "cert-file": { type: "string" },
  "key-file": { type: "string" },
  "api-key-file": { type: "string" },
  "api-key-env": { type: "string" },
  "no-cache": { type: "boolean", default: false },
} as const;

/** The apiVersion kubectl gets when it names none; the same as the core's default (a test checks). */
const defaultApiVersion = "client.authentication.k8s.io/v1";

/**
 * The cached ExecCredential for a `cluster-token credential` command line, or
 * undefined whenever anything is not plainly a cache hit (a usage problem, an
 * unreadable flag file, no cached token): the full command then runs and says what
 * is wrong. Only files written after a successful call are ever found, so a bad
 * apiVersion or identity can only miss.
 */
function cachedCredentialFor(args: string[], env: NodeJS.ProcessEnv): string | undefined {
  try {
    const { values } = util.parseArgs({ args, options: credentialOptions, strict: true });
    if (values["no-cache"] || !values.cluster || !values.server) return undefined;
    const info = env.KUBERNETES_EXEC_INFO ? (JSON.parse(env.KUBERNETES_EXEC_INFO) as { apiVersion?: unknown }) : undefined;
    const apiVersion = info === undefined ? defaultApiVersion : info.apiVersion;
    if (typeof apiVersion !== "string") return undefined;
    let apiKey: string | undefined;
    if (values["api-key-file"]) apiKey = readFileSync(values["api-key-file"], "utf8").trim();
    else if (values["api-key-env"]) apiKey = env[values["api-key-env"]]?.trim();
    if ((values["api-key-file"] || values["api-key-env"]) && !apiKey) return undefined;
    const cert = values["cert-file"] ? readFileSync(values["cert-file"]) : undefined;
    const key = {
      server: values.server,
      cluster: values.cluster,
      apiVersion,
      identity: callerIdentity({ apiKey, cert }),
      cloudIdentity: values.identity,
    };
    return readCachedCredential(credentialCacheDir(env), key);
  } catch {
    return undefined;
  }
}

export = {
  minRemainingMs,
  defaultApiVersion,
  credentialOptions,
  callerIdentity,
  credentialCacheDir,
  readCachedCredential,
  writeCachedCredential,
  cachedCredentialFor,
};
