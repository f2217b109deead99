import { z } from "zod";
import { providerNames, providers } from "../providers.js";
import { always, baseUrlSchema, listenAddressSchema } from "./schema-parts.js";
import { principalPatternProblem } from "../auth/principal.js";

/** A list's items as a non-empty tuple, which zod's unions require; the provider list is never empty. */
function nonEmpty<T>(items: readonly T[]): [T, ...T[]] {
  const [first, ...rest] = items;
  if (first === undefined) throw new Error("@private the provider list is empty");
  return [first, ...rest];
}

const credentialSchema = z.discriminatedUnion("provider", nonEmpty(providers.map((p) => p.credentialSchema)), {
  error: (issue) =>
    issue.code === "invalid_union" && "discriminator" in issue ? `provider must be one of: ${providerNames.join(", ")}` : undefined,
});

const clusterSchema = z.discriminatedUnion("provider", nonEmpty(providers.map((p) => p.clusterSchema)), {
  error: (issue) =>
    issue.code === "invalid_union" && "discriminator" in issue
      ? `unknown provider ${JSON.stringify((issue.input as { provider?: unknown } | undefined)?.provider)}; known providers: ${providerNames.join(", ")}`
      : undefined,
});

/** The RPCs a grant can allow; "*" is all of them. */
export const grantableRpcs = ["GenerateToken", "GetKubeconfig", "ListClusters"] as const;

const filePathSchema = z.string().min(1, "must be a file path");

/** Who may do what: authentication (TLS client certificates, API keys), the policy, and limits. */
const securitySchema = z
  .strictObject(
    {
      /** Plaintext listeners, no authentication, every caller may do everything: local development only. */
      insecurePlaintext: z.boolean().default(false),
      tls: z
        .strictObject({
          certFile: filePathSchema,
          keyFile: filePathSchema,
          /** Enables mTLS on both listeners: client certificates are required and verified against this CA. */
          clientCaFile: filePathSchema.optional(),
        })
        .optional(),
      apiKeys: z
        .array(
          z.strictObject({
            name: z
              .string()
              .regex(
                /^[\w.@-]{1,128}$/,
                'must be 1 to 128 characters of [A-Za-z0-9_.@-] (no ":" or "/", so that it can never read as a certificate identity); the key\'s principal is "key:NAME"',
              ),
            sha256: z
              .string()
              .regex(
                /^[0-9a-f]{64}$/,
                "must be the key's SHA-256 as 64 lower-case hex digits (cluster-token keygen prints it); the key itself is never configured",
              ),
          }),
        )
        .default([]),
      grants: z
        .array(
          z.strictObject({
            principals: z
              .array(
                z
                  .string()
                  .max(2048)
                  .check((ctx) => {
                    const problem = principalPatternProblem(ctx.value);
                    if (problem) ctx.issues.push({ code: "custom", input: ctx.value, message: problem });
                  }),
              )
              .min(1, "must name at least one principal"),
            clusters: z.array(z.string().min(1).max(253)).min(1, "must name at least one cluster id or glob"),
            rpcs: z
              .array(z.enum([...grantableRpcs, "*"], { error: `must be one of ${grantableRpcs.join(", ")} or "*"` }))
              .min(1, "must name at least one RPC"),
          }),
        )
        .default([]),
      /** Per principal, on ClusterTokenService calls; unlimited when absent. */
      rateLimit: z.strictObject({ requestsPerSecond: z.number().positive().max(100_000), burst: z.int().min(1).max(100_000) }).optional(),
      /** gRPC server reflection on the gRPC listener. */
      reflection: z.boolean().default(true),
    },
    {
      error: (issue) =>
        issue.input === undefined
          ? "is required: configure tls with clientCaFile or apiKeys, or set insecurePlaintext: true for local development"
          : undefined,
    },
  )
  .superRefine((c, ctx) => {
    if (typeof c !== "object" || c === null) return;
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", input: c, path, message });
    const apiKeys = Array.isArray(c.apiKeys) ? c.apiKeys : [];
    if (c.insecurePlaintext) {
      if (c.tls) issue(["tls"], "cannot be combined with insecurePlaintext");
      if (apiKeys.length > 0) issue(["apiKeys"], "cannot be combined with insecurePlaintext: keys would travel in plaintext");
      if (Array.isArray(c.grants) && c.grants.length > 0)
        issue(["grants"], "cannot be combined with insecurePlaintext, which allows everything");
      return;
    }
    if (!c.tls) issue(["tls"], "is required unless insecurePlaintext is true: configure certFile and keyFile");
    else if (!c.tls.clientCaFile && apiKeys.length === 0)
      issue(["apiKeys"], "or tls.clientCaFile is required: callers must authenticate with client certificates or API keys");
    const names = new Set<string>();
    const hashes = new Set<string>();
    apiKeys.forEach((key, i) => {
      if (names.has(key.name)) issue(["apiKeys", i, "name"], `duplicates another API key's name "${key.name}"`);
      if (hashes.has(key.sha256)) issue(["apiKeys", i, "sha256"], "duplicates another API key's hash");
      names.add(key.name);
      hashes.add(key.sha256);
    });
  }, always);

/**
 * The YAML config file, validated at start-up. Every key is documented in the
 * README's "Configuration" section. Unknown keys are errors, so typos cannot pass
 * silently.
 */
export const configSchema = z
  .strictObject({
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
        /** A TLS handshake not done by then is abandoned and its connection closed (both listeners). */
        handshakeTimeoutSeconds: z.number().min(0.1).max(120).default(10),
        /** A connection that has not sent its request headers by then is closed (HTTP listener). */
        headersTimeoutSeconds: z.number().min(0.1).max(120).default(10),
        /** An HTTP/2 (gRPC) connection without calls is closed after this. */
        idleTimeoutSeconds: z.number().min(1).max(86_400).default(300),
        /** The most connections each listener holds at once; further ones are closed on arrival. */
        maxConnections: z.int().min(1).max(1_000_000).default(4096),
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
    tokenCache: z
      .strictObject({
        /** Reuse a caller's token for the same cluster while at least 3/4 of its lifetime remains. */
        enabled: z.boolean().default(true),
        /** The most tokens kept in memory, across all callers and clusters. */
        maxEntries: z.int().min(1).max(1_000_000).default(10_000),
      })
      .prefault({}),
    logging: z.strictObject({ level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info") }).prefault({}),
    credentials: z
      .record(z.string().regex(/^[\w.-]{1,63}$/, "credential names must be 1 to 63 characters of [A-Za-z0-9_.-]"), credentialSchema)
      .default({}),
    clusters: z.array(clusterSchema).min(1, "must register at least one cluster"),
  })
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    const clusters = Array.isArray(config.clusters) ? config.clusters : [];
    const credentials: Record<string, { provider?: unknown } | undefined> =
      typeof config.credentials === "object" && config.credentials !== null ? config.credentials : {};
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
      const credential = credentials[cluster.credentials];
      if (!credential) {
        ctx.addIssue({
          code: "custom",
          input: cluster.credentials,
          path: ["clusters", index, "credentials"],
          message: `names "${cluster.credentials}", which is not an entry of credentials`,
        });
      } else if (credential.provider !== cluster.provider) {
        ctx.addIssue({
          code: "custom",
          input: cluster.credentials,
          path: ["clusters", index, "credentials"],
          message: `names a ${credential.provider} credential, but the cluster's provider is ${cluster.provider}`,
        });
      }
    });
  }, always);

/** The validated config, as the rest of the service sees it. */
export type ServiceConfig = z.output<typeof configSchema>;
/** The `security` block. */
export type SecurityConfig = z.output<typeof securitySchema>;
/** One `clusters[]` entry. */
export type ClusterConfig = ServiceConfig["clusters"][number];
/** One `credentials` entry, of any provider. */
export type CredentialConfig = ServiceConfig["credentials"][string];
