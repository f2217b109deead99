import { verifyPresignedRequest, type KnownKey } from "./sigv4-verifier.js";
import type { Verdict } from "./verdict.js";

/** The token prefix and the header that binds a token to a cluster, as aws-iam-authenticator defines them. */
const v1Prefix = "k8s-aws-v1.";
const clusterIdHeader = "x-k8s-aws-id";
/** The authenticator accepts a presigned URL for 15 minutes after X-Amz-Date. */
const presignedUrlExpirationMs = 15 * 60_000;
/** The query parameters the authenticator allows, lower-cased. */
const allowedParameters = new Set([
  "action",
  "version",
  "x-amz-algorithm",
  "x-amz-credential",
  "x-amz-date",
  "x-amz-expires",
  "x-amz-security-token",
  "x-amz-signature",
  "x-amz-signedheaders",
]);

/** What the verifying cluster knows. */
export interface EksVerifierOptions {
  /** The cluster's own name, sent as x-k8s-aws-id. */
  clusterName: string;
  /** The cluster's region: only its regional STS host is accepted. */
  region: string;
  /** The AWS keys STS knows. */
  keys: ReadonlyMap<string, KnownKey>;
  now?: Date;
}

/**
 * Verifies an EKS bearer token as the EKS authenticator and STS do together: the
 * prefix and unpadded base64url, the regional STS host, path and allowed parameters,
 * Action=GetCallerIdentity, x-k8s-aws-id among the signed headers, the 15-minute
 * window, and then the SigV4 signature with this cluster's name as x-k8s-aws-id.
 */
export function verifyEksToken(token: string, options: EksVerifierOptions): Verdict {
  if (!token.startsWith(v1Prefix)) return { ok: false, reason: "token lacks the k8s-aws-v1. prefix" };
  const encoded = token.slice(v1Prefix.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return { ok: false, reason: "token is not unpadded base64url" };
  let url: URL;
  try {
    url = new URL(Buffer.from(encoded, "base64url").toString("utf8"));
  } catch {
    return { ok: false, reason: "token does not decode to a URL" };
  }
  const suffix = options.region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  if (url.protocol !== "https:") return { ok: false, reason: "presigned URL is not https" };
  if (url.host !== `sts.${options.region}.${suffix}`) return { ok: false, reason: `unexpected STS host ${url.host}` };
  if (url.pathname !== "/") return { ok: false, reason: "unexpected path" };
  const seen = new Set<string>();
  for (const key of url.searchParams.keys()) {
    const lower = key.toLowerCase();
    if (!allowedParameters.has(lower)) return { ok: false, reason: `parameter ${key} is not allowed` };
    if (seen.has(lower)) return { ok: false, reason: `parameter ${key} is repeated` };
    seen.add(lower);
  }
  if (url.searchParams.get("Action") !== "GetCallerIdentity") return { ok: false, reason: "Action is not GetCallerIdentity" };
  const signedHeaders = (url.searchParams.get("X-Amz-SignedHeaders") ?? "").split(";");
  if (!signedHeaders.includes(clusterIdHeader)) return { ok: false, reason: "x-k8s-aws-id is not signed" };
  const expires = Number(url.searchParams.get("X-Amz-Expires"));
  if (!Number.isInteger(expires) || expires <= 0 || expires > 900) return { ok: false, reason: "X-Amz-Expires out of range" };
  return verifyPresignedRequest(
    {
      method: "GET",
      path: "/",
      query: url.searchParams,
      headers: { host: url.host, [clusterIdHeader]: options.clusterName },
      body: Buffer.alloc(0),
    },
    options.keys,
    { region: options.region, service: "sts", now: options.now ?? new Date() },
    presignedUrlExpirationMs,
  );
}
