import { createHmac } from "node:crypto";

/**
 * NAVER Cloud's request signature, shared by the API gateway (signature v2) and
 * ncp-iam-authenticator tokens: base64 of HMAC-SHA256 over
 * `"<METHOD> <path and query>\n<timestamp ms>\n<access key>"` with the secret key.
 */
export function ncpSignature(secretKey: string, method: string, pathAndQuery: string, timestamp: string, accessKey: string): string {
  return createHmac("sha256", secretKey).update(`${method} ${pathAndQuery}\n${timestamp}\n${accessKey}`).digest("base64");
}

/** The NCP API gateway headers that authenticate one request signed at `now`. */
export function ncpGatewayHeaders(
  keys: { accessKey: string; secretKey: string },
  method: string,
  pathAndQuery: string,
  now: Date,
): Record<string, string> {
  const timestamp = String(now.getTime());
  return {
    "x-ncp-apigw-timestamp": timestamp,
    "x-ncp-iam-access-key": keys.accessKey,
    "x-ncp-apigw-signature-v2": ncpSignature(keys.secretKey, method, pathAndQuery, timestamp, keys.accessKey),
  };
}

/**
 * The stage NCP uses for a region in its paths: the bare version for Korea (an empty
 * region, `KR`), the financial regions (`F…`) and the `…CS…` regions; otherwise the
 * lower-cased region and the version, e.g. `sgn-v1`, `jpn-v2`, `krs-v1`.
 */
export function ncpStage(region: string, version: "v1" | "v2"): string {
  if (region === "" || region === "KR" || region.startsWith("F") || region.includes("CS")) return version;
  return `${region.toLowerCase()}-${version}`;
}
