import { z } from "zod";
import { accountBase, always, baseUrlSchema, clusterBase, secretRefSchema } from "../../config/schema-parts.js";

/** The `provider` value of Google Cloud entries, and the name errors and metrics give the cloud. */
export const gcpProviderName = "gcp";

/** A Google Cloud project id. */
export const gcpProjectSchema = z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "must be a Google Cloud project id");
/** A GKE location: a region or a zone. */
export const gkeLocationSchema = z
  .string()
  .regex(/^[a-z]+-[a-z]+\d+(?:-[a-z])?$/, "must be a GKE location, a region such as us-central1 or a zone such as us-central1-a");
/** The location that stands for every zone and region of a project in `clusters.list`. */
export const allLocations = "-";

/** A scope of a GCP account: `{project}/{location}`, each listed on its own. */
export function gkeScope(project: string, location: string): string {
  return `${project}/${location}`;
}

/** Google's label rules (a key starts with a lowercase letter; lowercase letters, digits, `_` and `-`; at most 63). */
const labelKey = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const labelValue = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;

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
  project: gcpProjectSchema,
  region: gkeLocationSchema,
  name: z.string().regex(/^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$/, "must be a GKE cluster name"),
});

/**
 * A Google Cloud account whose GKE clusters are discovered: its projects, and the
 * locations listed in each (every one, `-`, by default); each project and location
 * is a scope of its own. Its `tags` filter the clusters' labels (`resourceLabels`).
 */
export const gcpAccountSchema = z
  .strictObject({
    ...accountBase,
    provider: z.literal(gcpProviderName),
    projects: z.array(gcpProjectSchema).min(1, "must name at least one project").max(100),
    locations: z
      .array(z.union([z.literal(allLocations), gkeLocationSchema], { error: 'must be "-" or a GKE location such as us-central1' }))
      .min(1)
      .max(100)
      .default([allLocations]),
  })
  .superRefine((account, ctx) => {
    for (const key of ["projects", "locations"] as const) {
      const repeated = account[key].find((value, i) => account[key].indexOf(value) !== i);
      if (repeated) ctx.addIssue({ code: "custom", input: repeated, path: [key], message: `names ${repeated} twice` });
    }
    if (account.locations.includes(allLocations) && account.locations.length > 1) {
      ctx.addIssue({
        code: "custom",
        input: account.locations,
        path: ["locations"],
        message: '"-" stands for every location, so it stands alone',
      });
    }
    for (const [key, value] of Object.entries(account.tags)) {
      if (!labelKey.test(key) || !labelValue.test(value)) {
        ctx.addIssue({
          code: "custom",
          input: key,
          path: ["tags", key],
          message:
            "must be a GKE label, which no cluster could otherwise carry: lowercase letters, digits, _ and -, at most 63, the key starting with a letter",
        });
      }
    }
  }, always);

/** A Google Cloud `credentials` entry. */
export type GcpCredentialConfig = z.output<typeof gcpCredentialSchema>;
/** A registered GKE cluster. */
export type GcpCluster = z.output<typeof gcpClusterSchema>;
/** A Google Cloud `accounts` entry. */
export type GcpAccount = z.output<typeof gcpAccountSchema>;
