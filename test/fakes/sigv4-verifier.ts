import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { Verdict } from "./verdict.js";

/**
 * An independent AWS Signature Version 4 verifier for the fake clouds, written from
 * the published algorithm with node:crypto only, so that it checks the service's use
 * of @smithy/signature-v4 rather than repeating it.
 */

/** A secret the fake knows, by access key id. */
export interface KnownKey {
  secretAccessKey: string;
  /** Required on requests signed with these keys when set (temporary credentials). */
  sessionToken?: string;
  /** The ARN GetCallerIdentity reports for these keys (an assumed role's session); the access key id stands in when absent. */
  arn?: string;
}

/** The parts of an HTTP request that SigV4 signs. */
export interface SignedRequest {
  method: string;
  /** The path without the query, e.g. "/". */
  path: string;
  query: URLSearchParams;
  /** Header names lower-cased. */
  headers: Record<string, string | undefined>;
  body: Buffer;
}

/** What the verifier expects of the signature. */
export interface Expectation {
  region: string;
  service: string;
  now: Date;
  /** How far X-Amz-Date may be from `now`, in ms; AWS allows 5 minutes of skew for header auth. */
  maxSkewMs?: number;
}

const algorithm = "AWS4-HMAC-SHA256";
const emptySha256 = createHash("sha256").update("").digest("hex");

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(query: URLSearchParams, omit: string | undefined): string {
  return [...query]
    .filter(([key]) => key !== omit)
    .map(([key, value]) => [rfc3986(key), rfc3986(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
}

function signature(secret: string, date: string, region: string, service: string, stringToSign: string): string {
  const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request");
  return createHmac("sha256", signingKey).update(stringToSign).digest("hex");
}

function parseAmzDate(value: string | undefined | null): Date | undefined {
  const m = value?.match(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/);
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
}

interface SignatureParts {
  credential: string;
  signedHeaders: string;
  signature: string;
  amzDate: string | undefined;
  sessionToken: string | undefined;
  payloadHash: string;
  omitFromQuery?: string;
}

function check(
  req: SignedRequest,
  parts: SignatureParts,
  keys: ReadonlyMap<string, KnownKey>,
  expect: Expectation,
  maxAgeMs: number,
): Verdict {
  const [accessKeyId, date, region, service, terminal] = parts.credential.split("/");
  if (!accessKeyId || terminal !== "aws4_request") return { ok: false, reason: "malformed credential scope" };
  if (region !== expect.region) return { ok: false, reason: `credential scope region ${region}, expected ${expect.region}` };
  if (service !== expect.service) return { ok: false, reason: `credential scope service ${service}, expected ${expect.service}` };
  const signedAt = parseAmzDate(parts.amzDate);
  if (!signedAt || parts.amzDate?.slice(0, 8) !== date) return { ok: false, reason: "X-Amz-Date missing or not matching the scope" };
  const skew = expect.now.getTime() - signedAt.getTime();
  if (skew > maxAgeMs || skew < -(expect.maxSkewMs ?? 5 * 60_000)) return { ok: false, reason: "signature expired or from the future" };
  const key = keys.get(accessKeyId);
  if (!key) return { ok: false, reason: "unknown access key" };
  if (key.sessionToken !== undefined && parts.sessionToken !== key.sessionToken)
    return { ok: false, reason: "missing or wrong security token" };
  const signed = parts.signedHeaders.split(";");
  if (!signed.includes("host")) return { ok: false, reason: "host is not signed" };
  const canonicalHeaders = signed.map((name) => `${name}:${(req.headers[name] ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
  const canonicalRequest = [
    req.method,
    req.path,
    canonicalQuery(req.query, parts.omitFromQuery),
    canonicalHeaders,
    parts.signedHeaders,
    parts.payloadHash,
  ].join("\n");
  const stringToSign = [
    algorithm,
    parts.amzDate,
    `${date}/${region}/${service}/aws4_request`,
    createHash("sha256").update(canonicalRequest).digest("hex"),
  ].join("\n");
  const expected = Buffer.from(signature(key.secretAccessKey, date!, region, service, stringToSign));
  const given = Buffer.from(parts.signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: "signature does not match" };
  return { ok: true, identity: accessKeyId };
}

/** Verifies a request signed in the Authorization header, body hash included. */
export function verifyHeaderSignature(req: SignedRequest, keys: ReadonlyMap<string, KnownKey>, expect: Expectation): Verdict {
  const auth = req.headers.authorization?.match(/^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/);
  if (!auth) return { ok: false, reason: "missing or malformed Authorization header" };
  const payloadHash = createHash("sha256").update(req.body).digest("hex");
  const claimed = req.headers["x-amz-content-sha256"];
  if (claimed !== undefined && claimed !== payloadHash) return { ok: false, reason: "x-amz-content-sha256 does not match the body" };
  return check(
    req,
    {
      credential: auth[1]!,
      signedHeaders: auth[2]!,
      signature: auth[3]!,
      amzDate: req.headers["x-amz-date"],
      sessionToken: req.headers["x-amz-security-token"],
      payloadHash,
    },
    keys,
    expect,
    expect.maxSkewMs ?? 5 * 60_000,
  );
}

/**
 * Verifies a presigned URL (signature in the query), with an empty payload, as STS
 * does for the URL inside an EKS token. `maxAgeMs` bounds X-Amz-Date's age.
 */
export function verifyPresignedRequest(
  req: SignedRequest,
  keys: ReadonlyMap<string, KnownKey>,
  expect: Expectation,
  maxAgeMs: number,
): Verdict {
  const q = req.query;
  if (q.get("X-Amz-Algorithm") !== algorithm) return { ok: false, reason: "X-Amz-Algorithm must be AWS4-HMAC-SHA256" };
  const credential = q.get("X-Amz-Credential");
  const signedHeaders = q.get("X-Amz-SignedHeaders");
  const sig = q.get("X-Amz-Signature");
  if (!credential || !signedHeaders || !sig) return { ok: false, reason: "presigned URL lacks credential, signed headers or signature" };
  return check(
    req,
    {
      credential,
      signedHeaders,
      signature: sig,
      amzDate: q.get("X-Amz-Date") ?? undefined,
      sessionToken: q.get("X-Amz-Security-Token") ?? undefined,
      payloadHash: emptySha256,
      omitFromQuery: "X-Amz-Signature",
    },
    keys,
    expect,
    maxAgeMs,
  );
}
