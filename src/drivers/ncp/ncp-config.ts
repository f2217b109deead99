import { z } from "zod";
import { accountBase, clusterBase, scopeListSchema, secretRefSchema } from "../../config/schema-parts.js";

/** The `provider` value of NAVER Cloud entries, and the name errors and metrics give the cloud. */
export const ncpProviderName = "ncp";

/** A NAVER Cloud credential: an API access key and its secret key. */
export const ncpCredentialSchema = z.strictObject({
  provider: z.literal(ncpProviderName),
  accessKey: secretRefSchema,
  secretKey: secretRefSchema,
});

/** An NKS cluster entry, known by its UUID. */
export const ncpClusterSchema = z.strictObject({
  ...clusterBase,
  provider: z.literal(ncpProviderName),
  region: z.string().regex(/^[A-Z]{0,8}$/, "must be an NCP region code such as KR, SGN or JPN, or empty"),
  uuid: z.uuid({ error: "must be the NKS cluster UUID" }),
  name: z.string().max(255).default(""),
});

/** The most regions an NCP account lists; NAVER Cloud has fewer than this. */
export const maxNcpRegions = 32;

/**
 * An `accounts` entry of NAVER Cloud: the NKS clusters of its regions. NKS clusters
 * carry no tags or labels (the cluster API has none), so a non-empty `tags` filter
 * is refused rather than match nothing: select clusters by id globs in grants.
 */
export const ncpAccountSchema = z.strictObject({
  ...accountBase,
  provider: z.literal(ncpProviderName),
  regions: scopeListSchema(z.string().regex(/^[A-Z]{1,8}$/, "must be an NCP region code such as KR, SGN or JPN"), "region", maxNcpRegions),
  tags: accountBase.tags.refine(
    (tags) => Object.keys(tags).length === 0,
    "NKS clusters have no tags or labels to filter on; leave tags out of ncp accounts and select clusters by id in grants",
  ),
});

/** A NAVER Cloud `credentials` entry. */
export type NcpCredentialConfig = z.output<typeof ncpCredentialSchema>;
/** A registered NKS cluster. */
export type NcpCluster = z.output<typeof ncpClusterSchema>;
/** A NAVER Cloud `accounts` entry. */
export type NcpAccount = z.output<typeof ncpAccountSchema>;
