import { z } from "zod";
import { always, baseUrlSchema, clusterBase, secretRefSchema } from "../../config/schema-parts.js";

/** The `provider` value of AWS entries, and the name errors and metrics give the cloud. */
export const awsProviderName = "aws";

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

/** An EKS cluster entry. */
export const awsClusterSchema = z.strictObject({
  ...clusterBase,
  provider: z.literal(awsProviderName),
  region: z.string().regex(/^[a-z]{2}(?:-[a-z]+)+-\d+$/, "must be an AWS region such as us-west-2"),
  name: z.string().regex(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/, "must be an EKS cluster name"),
});

/** An AWS `credentials` entry. */
export type AwsCredentialConfig = z.output<typeof awsCredentialSchema>;
/** A registered EKS cluster. */
export type AwsCluster = z.output<typeof awsClusterSchema>;
