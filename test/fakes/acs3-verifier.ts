import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { Verdict } from "./verdict.js";

/** A key pair the fake Alibaba Cloud knows; STS keys also carry their security token and expiry. */
export interface KnownAlibabaKey {
  secret: string;
  securityToken?: string;
  expiresAt?: Date;
  /** The RAM role ARN whose session these keys are (issued by AssumeRole); STS GetCallerIdentity names the role. */
  roleArn?: string;
}

/** A request as the verifier sees it: what was sent, headers in any case. */
export interface SignedAcsRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
  body: Buffer | string;
}

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

/** RFC 3986 encoding, as Alibaba Cloud's gateway canonicalizes query values (written apart from the service's signer on purpose). */
function rfc3986(value: string): string {
  return [...Buffer.from(value, "utf8")]
    .map((byte) => {
      const c = String.fromCharCode(byte);
      return /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    })
    .join("");
}

/**
 * Verifies an ACS3-HMAC-SHA256 signature as Alibaba Cloud's API gateway does: parses
 * the Authorization header, requires the action, date and payload hash (and `host`
 * when `requireHost`) among the signed headers, checks the payload hash against the
 * body, the date against a 15-minute window around `now`, the security token of STS
 * keys, and recomputes the signature with the known secret.
 */
export function verifyAcs3(
  request: SignedAcsRequest,
  keys: ReadonlyMap<string, KnownAlibabaKey>,
  { now, requireHost }: { now: Date; requireHost: boolean },
): Verdict {
  const header = (name: string) => Object.entries(request.headers).find(([k]) => k.toLowerCase() === name)?.[1];
  const m = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(header("authorization") ?? "");
  if (!m) return { ok: false, reason: "no ACS3-HMAC-SHA256 Authorization header" };
  const [, accessKeyId = "", signedList = "", signature = ""] = m;
  const known = keys.get(accessKeyId);
  if (!known) return { ok: false, reason: "InvalidAccessKeyId.NotFound" };
  const signed = signedList.split(";");
  for (const required of ["x-acs-action", "x-acs-date", "x-acs-content-sha256", ...(requireHost ? ["host"] : [])]) {
    if (!signed.includes(required)) return { ok: false, reason: `${required} is not signed` };
  }
  if (signed.join(";") !== [...signed].sort().join(";")) return { ok: false, reason: "SignedHeaders are not sorted" };
  if (header("x-acs-content-sha256") !== sha256(request.body)) return { ok: false, reason: "the payload hash does not match the body" };
  const date = new Date(header("x-acs-date") ?? "");
  if (Number.isNaN(date.getTime()) || Math.abs(now.getTime() - date.getTime()) > 15 * 60_000)
    return { ok: false, reason: "x-acs-date outside 15 minutes" };
  if (known.expiresAt && known.expiresAt < now) return { ok: false, reason: "the STS token has expired" };
  if (known.securityToken !== undefined && header("x-acs-security-token") !== known.securityToken)
    return { ok: false, reason: "InvalidSecurityToken" };
  const canonicalHeaders = signed.map((name) => `${name}:${(header(name) ?? "").trim()}\n`).join("");
  const canonicalQuery = Object.keys(request.query)
    .sort()
    .map((key) => `${rfc3986(key)}=${rfc3986(request.query[key] ?? "")}`)
    .join("&");
  const canonical = [
    request.method,
    request.path || "/",
    canonicalQuery,
    canonicalHeaders,
    signedList,
    header("x-acs-content-sha256"),
  ].join("\n");
  const expected = createHmac("sha256", known.secret)
    .update(`ACS3-HMAC-SHA256\n${sha256(canonical)}`)
    .digest();
  if (!timingSafeEqual(expected, Buffer.from(signature, "hex"))) return { ok: false, reason: "SignatureDoesNotMatch" };
  return { ok: true, identity: accessKeyId };
}
