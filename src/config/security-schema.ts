import { z } from "zod";
import { principalPatternProblem } from "../auth/principal.js";
import { identityNamePattern, identityNameRule } from "../core/identity-name.js";
import { always, filePathSchema } from "./schema-parts.js";
import { apiKeyNamePattern } from "../auth/api-keys.js";

/** The RPCs a grant can allow; "*" is all of them. */
export const grantableRpcs = ["GenerateToken", "GetKubeconfig", "ListClusters"] as const;
/** The grant entries under which a grant's `identities` apply: the RPCs that mint with a cloud identity, and "*". */
const mintingRpcs: ReadonlySet<string> = new Set(["GenerateToken", "GetKubeconfig", "*"]);

/** Who may do what: authentication (TLS client certificates, API keys), the policy, and limits. */
export const securitySchema = z
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
                apiKeyNamePattern,
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
            /** Cluster ids or globs; with `clusterLabels`, a cluster must match both. */
            clusters: z.array(z.string().min(1).max(253)).min(1, "must name at least one cluster id or glob").optional(),
            /**
             * Labels a cluster must have, every pair: configured labels, or a discovered
             * cluster's tags. Whoever may tag clusters in a discovered account decides
             * what such a grant reaches.
             */
            clusterLabels: z
              .record(z.string().regex(/^[\w./-]{1,63}$/, "label keys are 1 to 63 characters of [A-Za-z0-9_./-]"), z.string().max(255))
              .refine((labels) => Object.keys(labels).length > 0, "must hold at least one label; omit it to select by id only")
              .optional(),
            rpcs: z
              .array(z.enum([...grantableRpcs, "*"], { error: `must be one of ${grantableRpcs.join(", ")} or "*"` }))
              .min(1, "must name at least one RPC"),
            /**
             * The cloud identities the grant gives for the RPCs that mint: names of
             * `credentials` entries, of which a call uses those of its cluster's
             * provider. Absent: the cluster's own credentials.
             */
            identities: z
              .array(z.string().regex(identityNamePattern, `must name a credentials entry: ${identityNameRule}`))
              .min(1, "must name at least one credentials entry; omit it to give the cluster's own credentials")
              .refine((names) => new Set(names).size === names.length, "must name each credentials entry once")
              .optional(),
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
    if (Array.isArray(c.grants)) {
      c.grants.forEach((grant, i) => {
        if (typeof grant !== "object" || grant === null) return;
        if (grant.clusters === undefined && grant.clusterLabels === undefined)
          issue(
            ["grants", i, "clusters"],
            "is required unless clusterLabels selects the clusters: name cluster ids or globs, labels, or both",
          );
        if (grant.identities !== undefined && Array.isArray(grant.rpcs) && !grant.rpcs.some((rpc) => mintingRpcs.has(rpc)))
          issue(["grants", i, "identities"], "applies only to GenerateToken and GetKubeconfig, which the grant's rpcs do not name");
      });
    }
    const names = new Set<string>();
    const hashes = new Set<string>();
    apiKeys.forEach((key, i) => {
      if (names.has(key.name)) issue(["apiKeys", i, "name"], `duplicates another API key's name "${key.name}"`);
      if (hashes.has(key.sha256)) issue(["apiKeys", i, "sha256"], "duplicates another API key's hash");
      names.add(key.name);
      hashes.add(key.sha256);
    });
  }, always);
