import { z } from "zod";
import { clusterBase, secretRefSchema } from "../../config/schema-parts.js";

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

/** A NAVER Cloud `credentials` entry. */
export type NcpCredentialConfig = z.output<typeof ncpCredentialSchema>;
/** A registered NKS cluster. */
export type NcpCluster = z.output<typeof ncpClusterSchema>;
