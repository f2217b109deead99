import { z } from "zod";
import { accountBase, baseUrlSchema, clusterBase, scopeListSchema, secretRefSchema } from "../../config/schema-parts.js";

/** The `provider` value of Alibaba Cloud entries, and the name errors and metrics give the cloud. */
export const alibabaProviderName = "alibaba";

/** Alibaba Cloud STS, where a RAM role is assumed. */
export const defaultAlibabaStsEndpoint = "https://sts.aliyuncs.com";

/**
 * An Alibaba Cloud credential: a RAM user's AccessKey pair, and optionally a RAM
 * role assumed with it through STS (as ack-ram-tool's `--role-arn` does).
 */
export const alibabaCredentialSchema = z.strictObject({
  provider: z.literal(alibabaProviderName),
  accessKeyId: secretRefSchema,
  accessKeySecret: secretRefSchema,
  roleArn: z
    .string()
    .regex(/^acs:ram::\d{1,32}:role\/[\w.@/-]{1,64}$/i, "must be a RAM role ARN, acs:ram::<account id>:role/<name>")
    .optional(),
  roleSessionName: z
    .string()
    .regex(/^[\w.@-]{2,64}$/, "must be 2 to 64 characters of [A-Za-z0-9_.@-]")
    .default("cluster-token-service"),
  externalId: z.string().min(2).max(1224).optional(),
  durationSeconds: z.int().min(900).max(43_200).default(3600),
  stsEndpoint: baseUrlSchema.default(defaultAlibabaStsEndpoint),
});

const regionId = z.string().regex(/^[a-z]{2}(-[a-z0-9]+)+$/, "must be an Alibaba Cloud region id such as cn-hangzhou");

/** An ACK cluster entry, known by its cluster id. */
export const alibabaClusterSchema = z.strictObject({
  ...clusterBase,
  provider: z.literal(alibabaProviderName),
  region: regionId,
  clusterId: z.string().regex(/^c[0-9a-z]{8,40}$/, "must be the ACK cluster id, such as c82e6987e2961451182edacd74faf****"),
  name: z.string().max(255).default(""),
});

/** The most regions an Alibaba Cloud account lists; Alibaba Cloud has fewer than this. */
export const maxAlibabaRegions = 64;

/**
 * An `accounts` entry of Alibaba Cloud: the ACK clusters of its regions. The `tags`
 * filter matches the clusters' resource tags.
 */
export const alibabaAccountSchema = z.strictObject({
  ...accountBase,
  provider: z.literal(alibabaProviderName),
  regions: scopeListSchema(regionId, "region", maxAlibabaRegions),
});

/** An Alibaba Cloud `credentials` entry. */
export type AlibabaCredentialConfig = z.output<typeof alibabaCredentialSchema>;
/** A registered ACK cluster. */
export type AlibabaCluster = z.output<typeof alibabaClusterSchema>;
/** An Alibaba Cloud `accounts` entry. */
export type AlibabaAccount = z.output<typeof alibabaAccountSchema>;
