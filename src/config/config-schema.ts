import { z } from "zod";
import { principalPatternProblem } from "../auth/principal.js";
import { clusterIdProblem } from "../core/cluster-id.js";

/**
 * Cross-field checks run even when a field has its own problem, so that one run
 * reports every problem; they guard against values that failed their own schema.
 */
const always = { when: () => true };

/** A `{ env: NAME }` or `{ file: PATH }` reference; secrets are never inline. */
const secretRefSchema = z.union(
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

const httpsUrlSchema = z.url({ protocol: /^https$/, error: "must be an https:// URL" });
const baseUrlSchema = z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" });

/** An AWS credential: static keys from references, the SDK default chain, and optionally a role to assume. */
const awsCredentialSchema = z
  .strictObject({
    provider: z.literal("aws"),
    source: z.literal("default", { error: 'must be "default" (the AWS SDK default credential chain)' }).optional(),
    accessKeyId: secretRefSchema.optional(),
    secretAccessKey: secretRefSchema.optional(),
    sessionToken: secretRefSchema.optional(),
    roleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, "must be an IAM role ARN, arn:aws:iam::123456789012:role/NAME")
      .optional(),
    externalId: z
      .string()
      .regex(/^[\w+=,.@:/-]{2,1224}$/, "must be 2 to 1224 characters of [A-Za-z0-9_+=,.@:/-]")
      .optional(),
    sessionName: z
      .string()
      .regex(/^[\w+=,.@-]{2,64}$/, "must be 2 to 64 characters of [A-Za-z0-9_+=,.@-]")
      .optional(),
    durationSeconds: z.int().min(900).max(43200).optional(),
    region: z
      .string()
      .regex(/^[a-z]{2}(?:-[a-z]+)+-\d+$/, "must be an AWS region such as us-east-1")
      .optional(),
    stsEndpoint: baseUrlSchema.optional(),
  })
  .superRefine((c, ctx) => {
    const hasKeys = c.accessKeyId !== undefined || c.secretAccessKey !== undefined;
    if (c.source === "default" && (hasKeys || c.sessionToken)) {
      ctx.addIssue({
        code: "custom",
        input: c,
        path: ["source"],
        message: "cannot be combined with accessKeyId/secretAccessKey/sessionToken",
      });
    } else if (c.source === undefined && !(c.accessKeyId && c.secretAccessKey)) {
      const missing = c.accessKeyId ? "secretAccessKey" : "accessKeyId";
      ctx.addIssue({ code: "custom", input: c, path: [missing], message: 'is required unless source is "default"' });
    }
    if ((c.externalId || c.sessionName || c.durationSeconds) && !c.roleArn) {
      ctx.addIssue({
        code: "custom",
        input: c,
        path: ["roleArn"],
        message: "is required when externalId, sessionName or durationSeconds is set",
      });
    }
  }, always);

/** A Google Cloud credential: a service-account key, or Application Default Credentials, optionally impersonating a service account. */
const gcpCredentialSchema = z
  .strictObject({
    provider: z.literal("gcp"),
    source: z.literal("default", { error: 'must be "default" (Application Default Credentials)' }).optional(),
    serviceAccountKey: secretRefSchema.optional(),
    impersonateServiceAccount: z.email({ error: "must be a service account email" }).optional(),
    tokenEndpoint: baseUrlSchema.optional(),
    iamCredentialsEndpoint: baseUrlSchema.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.source === "default" && c.serviceAccountKey) {
      ctx.addIssue({ code: "custom", input: c, path: ["source"], message: "cannot be combined with serviceAccountKey" });
    } else if (c.source === undefined && !c.serviceAccountKey) {
      ctx.addIssue({ code: "custom", input: c, path: ["serviceAccountKey"], message: 'is required unless source is "default"' });
    }
  }, always);

/** A NAVER Cloud credential: an API access key and its secret key. */
const ncpCredentialSchema = z.strictObject({
  provider: z.literal("ncp"),
  accessKey: secretRefSchema,
  secretKey: secretRefSchema,
});

/** The providers this build knows. A provider outside this list is a config error at start-up. */
export const knownProviders = ["aws", "gcp", "ncp"] as const;

/** A provider name this build knows, such as "aws". */
export type ProviderName = (typeof knownProviders)[number];

const credentialSchema = z.discriminatedUnion("provider", [awsCredentialSchema, gcpCredentialSchema, ncpCredentialSchema], {
  error: (issue) =>
    issue.code === "invalid_union" && "discriminator" in issue ? `provider must be one of: ${knownProviders.join(", ")}` : undefined,
});

/** Keys every cluster entry has, whatever its provider. */
const clusterBase = {
  id: z.string().check((ctx) => {
    const problem = clusterIdProblem(ctx.value);
    if (problem) ctx.issues.push({ code: "custom", input: ctx.value, message: problem });
  }),
  displayName: z.string().max(255).optional(),
  labels: z
    .record(z.string().regex(/^[\w./-]{1,63}$/, "label keys must be 1 to 63 characters of [A-Za-z0-9_./-]"), z.string().max(255))
    .optional(),
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

const clusterSchema = z.discriminatedUnion(
  "provider",
  [
    z.strictObject({
      ...clusterBase,
      provider: z.literal("aws"),
      region: z.string().regex(/^[a-z]{2}(?:-[a-z]+)+-\d+$/, "must be an AWS region such as us-west-2"),
      name: z.string().regex(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/, "must be an EKS cluster name"),
    }),
    z.strictObject({
      ...clusterBase,
      provider: z.literal("gcp"),
      project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "must be a Google Cloud project id"),
      region: z
        .string()
        .regex(/^[a-z]+-[a-z]+\d+(?:-[a-z])?$/, "must be a GKE location, a region such as us-central1 or a zone such as us-central1-a"),
      name: z.string().regex(/^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$/, "must be a GKE cluster name"),
    }),
    z.strictObject({
      ...clusterBase,
      provider: z.literal("ncp"),
      region: z.string().regex(/^[A-Z]{0,8}$/, "must be an NCP region code such as KR, SGN or JPN, or empty"),
      uuid: z.uuid({ error: "must be the NKS cluster UUID" }),
      name: z.string().max(255).optional(),
    }),
  ],
  {
    error: (issue) =>
      issue.code === "invalid_union" && "discriminator" in issue
        ? `unknown provider ${JSON.stringify((issue.input as { provider?: unknown } | undefined)?.provider)}; known providers: ${knownProviders.join(", ")}`
        : undefined,
  },
);

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
    listen: z.strictObject({ grpc: listenAddressSchema, http: listenAddressSchema }),
    security: securitySchema,
    /** Where audit lines go: `file` (appended to), else standard output; written synchronously, and issuance fails closed when they cannot be. */
    audit: z.strictObject({ file: filePathSchema.optional() }).default({}),
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
/** An AWS `credentials` entry. */
export type AwsCredentialConfig = Extract<CredentialConfig, { provider: "aws" }>;
/** A Google Cloud `credentials` entry. */
export type GcpCredentialConfig = Extract<CredentialConfig, { provider: "gcp" }>;
/** A NAVER Cloud `credentials` entry. */
export type NcpCredentialConfig = Extract<CredentialConfig, { provider: "ncp" }>;
