import type { MintedToken } from "../driver.js";
import { ncpSignature, ncpStage } from "./ncp-signature.js";

// The protocol of ncp-iam-authenticator's pkg/token.

/** Every NKS token starts with this, followed by standard padded base64 of a JSON claim. */
export const v1Prefix = "k8s-ncp-v1.";
/**
 * The lifetime reported for an NKS token. NCP's API gateway rejects timestamps more
 * than 5 minutes from its clock; 4 minutes leaves one minute for clock skew and for
 * the request to reach the cluster.
 */
export const tokenLifetimeMs = 4 * 60_000;

/** What an NKS token is minted from. */
export interface NksTokenInput {
  accessKey: string;
  secretKey: string;
  clusterUuid: string;
  /** The NCP region code, such as KR, SGN, JPN or KRS; it picks the IAM stage. */
  region: string;
  now: Date;
}

/** The IAM path an NKS token authorizes, `/iam/<stage>/user?clusterUuid=<uuid>`. */
export function nksTokenPath(region: string, clusterUuid: string): string {
  return `/iam/${ncpStage(region, "v1")}/user?clusterUuid=${clusterUuid}`;
}

/**
 * Mints an NKS bearer token as ncp-iam-authenticator does: `k8s-ncp-v1.` plus the
 * padded base64 of `{"timestamp","accessKey","signature","path"}` (compact JSON, in
 * that order), where the signature is NCP's HMAC over `GET <path>`. It is bound to
 * one cluster by the UUID in the signed path. No network call is made.
 */
export function mintNksToken({ accessKey, secretKey, clusterUuid, region, now }: NksTokenInput): MintedToken {
  const timestamp = String(now.getTime());
  const path = nksTokenPath(region, clusterUuid);
  const claim = JSON.stringify({ timestamp, accessKey, signature: ncpSignature(secretKey, "GET", path, timestamp, accessKey), path });
  return { token: v1Prefix + Buffer.from(claim).toString("base64"), expiresAt: new Date(now.getTime() + tokenLifetimeMs) };
}
