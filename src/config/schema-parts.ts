import { z } from "zod";
import { clusterIdProblem } from "../core/cluster-id.js";
import { defaultIdTemplate, idTemplateProblem } from "../discovery/id-template-rules.js";

/**
 * Cross-field checks run even when a field has its own problem, so that one run
 * reports every problem; they guard against values that failed their own schema.
 */
export const always = { when: () => true };

/** True for an entry that is an object: cross-field checks skip entries whose own schema reported them. */
export function isObject<T>(value: T): value is T & object {
  return typeof value === "object" && value !== null;
}

/** A list's items as a non-empty tuple, which zod's unions require. */
export function nonEmpty<T>(items: readonly T[]): [T, ...T[]] {
  const [first, ...rest] = items;
  if (first === undefined) throw new Error("@private the provider list is empty");
  return [first, ...rest];
}

/** A `{ env: NAME }` or `{ file: PATH }` reference; secrets are never inline. */
export const secretRefSchema = z.union(
  [
    z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name") }),
    z.strictObject({ file: z.string().min(1, "must be a file path") }),
  ],
  { error: "must be a secret reference, { env: NAME } or { file: PATH }; secrets are never written inline" },
);

/** A listen address, "host:port" or "[ipv6]:port"; port 0 picks a free port. */
export const listenAddressSchema = z
  .string()
  .regex(/^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be "host:port", e.g. "127.0.0.1:8080"')
  .refine((value) => Number(value.slice(value.lastIndexOf(":") + 1)) <= 65535, "port must be at most 65535");

/** A file path; relative paths are resolved from the config file's directory. */
export const filePathSchema = z.string().min(1, "must be a file path");

export const httpsUrlSchema = z.url({ protocol: /^https$/, error: "must be an https:// URL" });
export const baseUrlSchema = z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" });

/**
 * Keys every cluster entry has, whatever its provider. Where a cluster is and what
 * its cloud calls it are the provider's own keys (a region, a project and location,
 * a subscription and resource group, a UUID); the provider module says which of
 * them ListClusters shows as region and name.
 */
export const clusterBase = {
  id: z.string().check((ctx) => {
    const problem = clusterIdProblem(ctx.value);
    if (problem) ctx.issues.push({ code: "custom", input: ctx.value, message: problem });
  }),
  displayName: z.string().max(255).default(""),
  labels: z
    .record(z.string().regex(/^[\w./-]{1,63}$/, "label keys must be 1 to 63 characters of [A-Za-z0-9_./-]"), z.string().max(255))
    .default({}),
  credentials: z.string().min(1, "must name an entry of credentials"),
  /** The API server URL; discovered from the cloud when absent. */
  endpoint: httpsUrlSchema.optional(),
  /** Base64 PEM of the cluster CA; discovered from the cloud when absent. */
  certificateAuthorityData: z
    .string()
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, "must be base64 PEM, as in a kubeconfig's certificate-authority-data")
    .refine(
      (b64) => Buffer.from(b64, "base64").toString("latin1").includes("-----BEGIN CERTIFICATE-----"),
      "must be base64 of a PEM certificate",
    )
    .optional(),
  /** The base URL of the cloud's cluster API used for discovery, for sovereign regions, private endpoints and tests. */
  apiEndpoint: baseUrlSchema.optional(),
};

/**
 * What every registered cluster has, whatever its cloud, as drivers see it. It holds
 * no secret: `credentials` names a `credentials` entry.
 */
export type ClusterBase = z.output<z.ZodObject<typeof clusterBase>> & {
  /** The provider's name, the `provider` key of the entry. */
  readonly provider: string;
};

/**
 * Keys every `accounts` entry has, whatever its provider: which account, the
 * credentials entry it lists with (and mints with by default), the tag or label
 * filter, how often it is polled, one base URL for every API of that cloud it calls,
 * and how a discovered cluster's id is made. The provider adds the keys of its
 * scopes (regions; projects and locations; subscriptions and resource groups).
 */
export const accountBase = {
  /** A cluster-id-safe name: it ends every discovered id made by the default template. */
  id: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, "must be 1 to 32 characters of [a-z0-9-], starting and ending with a letter or digit"),
  credentials: z.string().min(1, "must name an entry of credentials"),
  /** Every pair must match a cluster's tags (labels on GKE) for it to be registered. */
  tags: z.record(z.string().min(1).max(128), z.string().max(256)).default({}),
  /** How often each scope is listed, with jitter. */
  pollSeconds: z.int().min(10).max(86_400).default(300),
  /** One base URL for every API of the cloud the account calls (sovereign clouds, private endpoints, tests). */
  apiEndpoint: baseUrlSchema.optional(),
  /** How a discovered cluster's id is made: `{name}`, `{region}` and `{account}`, lower-cased, "_" turned into "-". */
  idTemplate: z
    .string()
    .min(1)
    .max(200)
    .check((ctx) => {
      const problem = idTemplateProblem(ctx.value);
      if (problem) ctx.issues.push({ code: "custom", input: ctx.value, message: problem });
    })
    .default(defaultIdTemplate),
  /**
   * The most clusters the account registers, over all its scopes; a listing that
   * returns more keeps the first by id and reports the rest, so that a runaway
   * account cannot fill the service's memory. Absent: `defaultMaxClusters` (10,000).
   */
  maxClusters: z.int().min(1).max(100_000).optional(),
};

/** The most clusters an account registers when its entry sets no `maxClusters`. */
export const defaultMaxClusters = 10_000;

/** What every `accounts` entry has, whatever its cloud, as the discovery and the listers see it. */
export type AccountBase = z.output<z.ZodObject<typeof accountBase>> & {
  /** The provider's name, the `provider` key of the entry. */
  readonly provider: string;
};

/**
 * The scopes an `accounts` entry lists (regions, projects, subscriptions, resource
 * groups): at least one, at most `max`, each once (compared case-insensitively, as
 * the clouds compare them), so that no scope is listed twice per poll.
 */
export function scopeListSchema<T extends z.ZodType<string>>(item: T, what: string, max: number) {
  return z
    .array(item)
    .min(1, `must name at least one ${what}`)
    .max(max, `may name at most ${max} ${what}s`)
    .refine((list) => new Set(list.map((value) => value.toLowerCase())).size === list.length, `must name each ${what} once`);
}

/**
 * What is wrong with the credentials an entry (a cluster, an account) names, or
 * undefined: a name no `credentials` entry has, or an entry of another provider.
 * `entryProviders` are the providers the entry may name, `credentialProviders` those a
 * credentials entry may; a missing or malformed name and an unknown provider on
 * either side have problems of their own, which this does not repeat (no "provider
 * undefined").
 */
export function credentialsReferenceProblem(
  entry: { readonly credentials?: unknown; readonly provider?: unknown },
  kind: "cluster" | "account",
  credentials: Readonly<Record<string, { provider?: unknown } | undefined>>,
  entryProviders: ReadonlySet<unknown>,
  credentialProviders: ReadonlySet<unknown> = entryProviders,
): string | undefined {
  const name = entry.credentials;
  if (typeof name !== "string" || name === "") return undefined;
  // Own entries only: a name such as "constructor" is not an entry of credentials.
  const credential = Object.hasOwn(credentials, name) ? credentials[name] : undefined;
  if (!credential) return `names "${name}", which is not an entry of credentials`;
  const { provider } = credential;
  if (provider === entry.provider || !entryProviders.has(entry.provider) || !credentialProviders.has(provider)) return undefined;
  return `names a ${String(provider)} credential, but the ${kind}'s provider is ${String(entry.provider)}`;
}
