import { z } from "zod";
import { identityNamePattern, identityNameRule } from "../core/identity-name.js";
import { accountsSchema, checkAccounts } from "./accounts-schema.js";
import { checkGrantIdentities } from "./grant-identities.js";
import {
  type accountBase,
  always,
  baseUrlSchema,
  isObject,
  type clusterBase,
  credentialsReferenceProblem,
  filePathSchema,
  listenAddressSchema,
  nonEmpty,
} from "./schema-parts.js";
import { securitySchema } from "./security-schema.js";

/**
 * What the config needs to know of one cloud: the `provider` value of its entries,
 * and the schemas of its `credentials` and `clusters` entries (a cluster schema
 * spreads `clusterBase`). Each provider module is one; the composition root passes
 * the provider list in, so that this folder knows no cloud.
 */
export interface ProviderSchemas {
  readonly name: string;
  readonly credentialSchema: z.ZodObject<{ provider: z.ZodLiteral<string> }>;
  readonly clusterSchema: z.ZodObject<typeof clusterBase & { provider: z.ZodLiteral<string> }>;
  /** Present when the cloud's accounts can be discovered: the schema of its `accounts` entries (`accountBase` plus its scopes). */
  readonly discovery?: { readonly accountSchema: z.ZodObject<typeof accountBase & { provider: z.ZodLiteral<string> }> } | undefined;
}

/** Every key of the config file but `credentials` and `clusters`, which each cloud shapes. */
const serviceKeysSchema = z.strictObject({
  listen: z.strictObject({
    grpc: listenAddressSchema,
    http: listenAddressSchema,
    /** Prometheus `GET /metrics`, `/healthz` and `/readyz`, plaintext and unauthenticated; off when absent. */
    metrics: listenAddressSchema.optional(),
    /**
     * A plaintext gRPC port serving only grpc.health.v1, for the kubelet's native gRPC probes, which
     * cannot speak TLS; off when absent.
     */
    health: listenAddressSchema.optional(),
  }),
  shutdown: z
    .strictObject({
      /** After SIGTERM, health says NOT_SERVING while calls are still accepted for this long, so that load balancers and endpoints catch up. */
      drainDelaySeconds: z.number().min(0).max(300).default(5),
      /** Then calls in flight get this long to finish before their connections are closed. */
      graceSeconds: z.number().min(0).max(600).default(20),
    })
    .prefault({}),
  security: securitySchema,
  audit: z
    .strictObject({
      /** Where audit lines go: `file` (appended to), else standard output, through the logger's writer. */
      file: filePathSchema.optional(),
      /** How long an issuance waits for its audit line to be written; past it, the call fails closed with AUDIT_FAILED. */
      commitTimeoutSeconds: z.number().min(0.05).max(30).default(1),
    })
    .prefault({}),
  limits: z
    .strictObject({
      /** The largest request on both listeners. */
      maxMessageBytes: z
        .int()
        .min(1024)
        .max(4 * 1024 * 1024)
        .default(64 * 1024),
      /**
       * A connection that has not finished its TLS handshake by then, and on a gRPC port its
       * HTTP/2 client preface, counted from accept, is closed (every listener).
       */
      handshakeTimeoutSeconds: z.number().min(0.1).max(120).default(10),
      /** A connection that has not sent its request headers by then is closed (HTTP listener). */
      headersTimeoutSeconds: z.number().min(0.1).max(120).default(10),
      /** An HTTP/2 (gRPC) connection without calls is closed after this. */
      idleTimeoutSeconds: z.number().min(1).max(86_400).default(300),
      /**
       * The most connections the gRPC and HTTP listeners each hold at once. A new one closes the
       * oldest stalled connection (no handshake, preface or request yet), else the oldest idle
       * one; only when every connection has a call in flight is the newcomer closed.
       */
      maxConnections: z.int().min(1).max(1_000_000).default(4096),
      /** The same cap on the health and metrics listeners, which serve only probes and scrapes. */
      maxProbeConnections: z.int().min(1).max(100_000).default(64),
      /** The most stalled connections one remote address holds on a listener; its oldest makes room for its next. */
      maxStalledConnectionsPerAddress: z.int().min(1).max(1_000_000).default(128),
      /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS of the gRPC ports: calls one connection may have open at once. */
      maxStreamsPerConnection: z.int().min(1).max(10_000).default(100),
      /**
       * Calls (HTTP/2 streams) each gRPC port holds at once, across all its connections. A new
       * one resets the oldest stream still waiting for its request; when none waits, it gets
       * RESOURCE_EXHAUSTED at once.
       */
      maxCallsInFlight: z.int().min(1).max(1_000_000).default(1000),
      /** A gRPC call whose request (its message, and for a unary method its end) has not arrived this long after its headers is reset. */
      firstMessageTimeoutSeconds: z.number().min(0.1).max(120).default(5),
      /** The largest request header list (names and values, 32 bytes more per field, as HTTP/2 counts it) on every port. */
      maxHeaderBytes: z
        .int()
        .min(1024)
        .max(64 * 1024)
        .default(16 * 1024),
      /** The longest any call may take, applied even when the caller sets no deadline (or a later one). */
      maxCallSeconds: z.number().min(0.1).max(600).default(30),
      /** How long one request to a cloud may take before it is aborted and counted as unreachable. */
      upstreamTimeoutSeconds: z.number().min(0.05).max(120).default(10),
    })
    .prefault({}),
  /** The Connect listener's URL as clients reach it; exec kubeconfigs call back to it. Never derived from a bind address. */
  publicUrl: baseUrlSchema
    .refine(
      (url) => !["0.0.0.0", "[::]", "::"].includes(new URL(url).hostname),
      "must be an address clients can reach, not a wildcard bind address",
    )
    .refine((url) => {
      const u = new URL(url);
      return u.search === "" && u.hash === "";
    }, "must not have a query or fragment")
    .optional(),
  kubeconfig: z
    .strictObject({
      /** The command exec kubeconfigs run, with any leading arguments; `credential …` is appended. */
      execCommand: z.array(z.string().min(1)).min(1).default(["cluster-token"]),
    })
    .prefault({}),
  discovery: z
    .strictObject({
      /** How long a discovered endpoint and CA are reused before the cloud is asked again. */
      cacheTtlSeconds: z.int().min(0).max(86_400).default(600),
      /** How long past the TTL the last known endpoint and CA are still served while the cloud's API is down. */
      maxStaleSeconds: z
        .int()
        .min(0)
        .max(7 * 86_400)
        .default(86_400),
    })
    .prefault({}),
  /** How the clusters of `accounts` are listed and looked up; see docs/accounts.md. */
  accountDiscovery: z
    .strictObject({
      /** The most listings (one scope of one account each) that run at once, across all accounts. */
      maxConcurrentListings: z.int().min(1).max(64).default(8),
      /** How long one listing of a scope, every page of it, may take before it is abandoned as failed. */
      listingTimeoutSeconds: z.number().min(1).max(3600).default(120),
      /** How long an id that a lookup found no cluster for is answered NOT_FOUND without asking the cloud again. */
      unknownIdCacheSeconds: z.number().min(0).max(3600).default(30),
      /** Lookups of unknown ids each account may make per second, sustained, … */
      lookupsPerSecond: z.number().min(0.01).max(100).default(1),
      /** … and at once after being idle. */
      lookupBurst: z.int().min(1).max(1000).default(10),
    })
    .prefault({}),
  tokenCache: z
    .strictObject({
      /** Reuse a caller's token for the same cluster while at least 3/4 of its lifetime remains. */
      enabled: z.boolean().default(true),
      /** The most tokens kept in memory, across all callers and clusters. */
      maxEntries: z.int().min(1).max(1_000_000).default(10_000),
    })
    .prefault({}),
  logging: z.strictObject({ level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info") }).prefault({}),
});

/**
 * The schema of the YAML config file of a service serving `providers`, the same at
 * start-up and at every reload. Every key is documented in docs/configuration.md
 * ("Every key"). Unknown keys are errors, so typos cannot pass silently.
 */
export function buildConfigSchema(providers: readonly ProviderSchemas[]) {
  // An entry whose provider is missing or unknown is worded by load-config's configProblems, which names its stray keys.
  const credentialSchema = z.discriminatedUnion("provider", nonEmpty(providers.map((p) => p.credentialSchema)));
  const clusterSchema = z.discriminatedUnion("provider", nonEmpty(providers.map((p) => p.clusterSchema)));
  const known = new Set(providers.map((p) => p.name));
  const discovering = new Set(providers.flatMap((p) => (p.discovery ? [p.name] : [])));
  return serviceKeysSchema
    .extend({
      credentials: z
        .record(z.string().regex(identityNamePattern, `credential names must be ${identityNameRule}`), credentialSchema)
        .default({}),
      clusters: z.array(clusterSchema).default([]),
      accounts: accountsSchema(providers),
    })
    .superRefine((config, ctx) => {
      const seen = new Map<string, number>();
      const clusters = Array.isArray(config.clusters) ? config.clusters : [];
      const accounts = Array.isArray(config.accounts) ? config.accounts : [];
      const credentials: Record<string, { provider?: unknown } | undefined> =
        typeof config.credentials === "object" && config.credentials !== null ? config.credentials : {};
      if (clusters.length === 0 && accounts.length === 0) {
        ctx.addIssue({
          code: "custom",
          input: clusters,
          path: ["clusters"],
          message: "must register at least one cluster, or accounts must name one",
        });
      }
      checkAccounts(accounts, credentials, ctx, { known, discovering });
      const grants = Array.isArray(config.security?.grants) ? config.security.grants : [];
      checkGrantIdentities(grants, credentials, clusters.filter(isObject), accounts.filter(isObject), ctx);
      clusters.forEach((cluster, index) => {
        if (typeof cluster !== "object" || cluster === null) return;
        const first = seen.get(cluster.id);
        if (first !== undefined) {
          ctx.addIssue({
            code: "custom",
            input: cluster.id,
            path: ["clusters", index, "id"],
            message: `duplicates clusters[${first}].id "${cluster.id}"`,
          });
        }
        seen.set(cluster.id, index);
        const problem = credentialsReferenceProblem(cluster, "cluster", credentials, known);
        if (problem)
          ctx.addIssue({ code: "custom", input: cluster.credentials, path: ["clusters", index, "credentials"], message: problem });
      });
    }, always);
}

/** The schema {@link buildConfigSchema} builds. */
export type ConfigSchema = ReturnType<typeof buildConfigSchema>;
/**
 * The validated config, as the rest of the service sees it. A `credentials` or
 * `clusters` entry shows the keys every cloud shares; its cloud's schema validated
 * the rest, and the core reads a cluster as its provider's registered-cluster type.
 */
export type ServiceConfig = z.output<ConfigSchema>;
/** One `clusters[]` entry. */
export type ClusterConfig = ServiceConfig["clusters"][number];
/** One `accounts[]` entry: the keys every cloud shares; its provider's schema validated the keys of its scopes. */
export type AccountConfig = ServiceConfig["accounts"][number];
