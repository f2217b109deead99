import { z } from "zod";
import { always, baseUrlSchema, clusterBase, secretRefSchema } from "../../config/schema-parts.js";

/** The `provider` value of Google Cloud entries, and the name errors and metrics give the cloud. */
export const gcpProviderName = "gcp";

/** A Google Cloud credential: a service-account key, or Application Default Credentials, optionally impersonating a service account. */
export const gcpCredentialSchema = z
  .strictObject({
    provider: z.literal(gcpProviderName),
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

/** A GKE cluster entry. */
export const gcpClusterSchema = z.strictObject({
  ...clusterBase,
  provider: z.literal(gcpProviderName),
  project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "must be a Google Cloud project id"),
  region: z
    .string()
    .regex(/^[a-z]+-[a-z]+\d+(?:-[a-z])?$/, "must be a GKE location, a region such as us-central1 or a zone such as us-central1-a"),
  name: z.string().regex(/^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$/, "must be a GKE cluster name"),
});

/** A Google Cloud `credentials` entry. */
export type GcpCredentialConfig = z.output<typeof gcpCredentialSchema>;
/** A registered GKE cluster. */
export type GcpCluster = z.output<typeof gcpClusterSchema>;
