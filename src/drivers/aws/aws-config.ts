import { z } from "zod";
import { accountBase, always, baseUrlSchema, clusterBase, secretRefSchema } from "../../config/schema-parts.js";

/** The `provider` value of AWS entries, and the name errors and metrics give the cloud. */
export const awsProviderName = "aws";

/** An AWS region, such as us-west-2. */
export const awsRegionSchema = z.string().regex(/^[a-z]{2}(?:-[a-z]+)+-\d+$/, "must be an AWS region such as us-west-2");

/** The most tag filters one GetResources request takes (the Resource Groups Tagging API's limit). */
export const maxTagFilters = 50;

/** An AWS credential: static keys from references, the SDK default chain, and optionally a role to assume. */
export const awsCredentialSchema = z
  .strictObject({
    provider: z.literal(awsProviderName),
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
    region: awsRegionSchema.optional(),
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

/** An EKS cluster entry. */
export const awsClusterSchema = z.strictObject({
  ...clusterBase,
  provider: z.literal(awsProviderName),
  region: awsRegionSchema,
  name: z.string().regex(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/, "must be an EKS cluster name"),
});

/**
 * An AWS account whose EKS clusters are discovered: the regions it is listed in,
 * each a scope of its own. Its `tags` become GetResources' tag filters, one per key.
 */
export const awsAccountSchema = z
  .strictObject({
    ...accountBase,
    provider: z.literal(awsProviderName),
    regions: z.array(awsRegionSchema).min(1, "must name at least one AWS region").max(64),
  })
  .superRefine((account, ctx) => {
    const repeated = account.regions.find((region, i) => account.regions.indexOf(region) !== i);
    if (repeated) ctx.addIssue({ code: "custom", input: repeated, path: ["regions"], message: `names ${repeated} twice` });
    if (Object.keys(account.tags).length > maxTagFilters) {
      ctx.addIssue({ code: "custom", input: account.tags, path: ["tags"], message: `may hold at most ${maxTagFilters} tags on aws` });
    }
  }, always);

/** An AWS `credentials` entry. */
export type AwsCredentialConfig = z.output<typeof awsCredentialSchema>;
/** A registered EKS cluster. */
export type AwsCluster = z.output<typeof awsClusterSchema>;
/** An AWS `accounts` entry. */
export type AwsAccount = z.output<typeof awsAccountSchema>;
