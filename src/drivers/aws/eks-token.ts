import { Hash } from "@smithy/core/serde";
import { buildQueryString, HttpRequest } from "@smithy/core/protocols";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity } from "@smithy/types";
import type { MintedToken } from "../driver.js";
import { stsHostForRegion } from "./sts-host.js";

// The protocol of aws-iam-authenticator's pkg/token, named as it names them.

/** Every EKS token starts with this, followed by the unpadded base64url of a presigned URL. */
export const v1Prefix = "k8s-aws-v1.";
/** The signed header that binds a token to one cluster; it is not put into the URL. */
export const clusterIdHeader = "x-k8s-aws-id";
/** `X-Amz-Expires` of the presigned URL. The authenticator ignores it and applies its own 15 minutes. */
export const requestPresignParam = 60;
/** How long the authenticator accepts a presigned URL after its X-Amz-Date. */
export const presignedUrlExpirationMs = 15 * 60_000;
/** The expiry reported to callers: one minute short of the authenticator's window, as upstream does. */
export const tokenLifetimeMs = presignedUrlExpirationMs - 60_000;
/** The STS API version signed into the URL. */
export const stsApiVersion = "2011-06-15";

const sha256 = Hash.bind(null, "sha256");

/** What an EKS token is minted from. */
export interface EksTokenInput {
  /** The credentials to sign with; `sessionToken` becomes X-Amz-Security-Token. */
  credentials: AwsCredentialIdentity;
  /** The cluster's region, which picks the regional STS host and the signing region. */
  region: string;
  /** The EKS cluster name, signed as `x-k8s-aws-id`. */
  clusterName: string;
  /** The signing time; X-Amz-Date has second precision, so milliseconds are dropped. */
  now: Date;
}

/**
 * Mints an EKS bearer token: `k8s-aws-v1.` plus the unpadded base64url of a
 * SigV4-presigned STS GetCallerIdentity GET URL whose SignedHeaders are exactly
 * `host;x-k8s-aws-id`. No network call is made; EKS verifies the token by calling
 * STS with it.
 *
 * The expiry is the signing time plus 14 minutes, or the credentials' own expiry
 * when that is sooner, because STS rejects a URL signed with expired credentials.
 */
export async function mintEksToken({ credentials, region, clusterName, now }: EksTokenInput): Promise<MintedToken> {
  const signingDate = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const hostname = stsHostForRegion(region);
  const signer = new SignatureV4({ credentials, region, service: "sts", sha256, uriEscapePath: true, applyChecksum: false });
  const request = new HttpRequest({
    method: "GET",
    protocol: "https:",
    hostname,
    path: "/",
    query: { Action: "GetCallerIdentity", Version: stsApiVersion },
    headers: { host: hostname, [clusterIdHeader]: clusterName },
  });
  const presigned = await signer.presign(request, { expiresIn: requestPresignParam, signingDate });
  const url = `https://${hostname}/?${buildQueryString(presigned.query ?? {})}`;
  const tokenExpiry = signingDate.getTime() + tokenLifetimeMs;
  const credentialExpiry = credentials.expiration?.getTime() ?? Infinity;
  return {
    token: v1Prefix + Buffer.from(url).toString("base64url"),
    expiresAt: new Date(Math.min(tokenExpiry, credentialExpiry)),
  };
}
