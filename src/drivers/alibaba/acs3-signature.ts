import { createHash, createHmac } from "node:crypto";

// Alibaba Cloud's V3 request signature, ACS3-HMAC-SHA256, as the open-API utility
// (darabonba-openapi-util, `GetAuthorization`) computes it. Alibaba publishes no
// standalone signer package for Node: its SDK (@alicloud/openapi-util with the tea
// runtime) would bring a dozen packages for one HMAC, so the signer is these few
// lines, held to the utility's own published test vector.

/** The signature algorithm, as it appears in the Authorization header. */
export const acs3Algorithm = "ACS3-HMAC-SHA256";

/** Hex SHA-256: the payload hash (`x-acs-content-sha256`) and the canonical request's hash. */
export function sha256Hex(data: string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** What is signed: the request as sent, and the hash of its body. */
export interface Acs3Request {
  /** "GET", "POST"; empty in the utility's test vector. */
  method: string;
  /** The path; "" is "/". */
  pathname: string;
  query: Readonly<Record<string, string>>;
  /** Every header sent; only `x-acs-*`, `host` and `content-type` are signed. */
  headers: Readonly<Record<string, string>>;
  /** Hex SHA-256 of the body (`x-acs-content-sha256`). */
  payloadHash: string;
}

/** Percent-encoding as the utility does it: Go's QueryEscape, then `+`→`%20`, `*`→`%2A`, `%7E`→`~`. */
function acsEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `key=value` pairs sorted by key, values encoded (keys are not), `key=` for an empty value. */
function canonicalQuery(query: Readonly<Record<string, string>>): string {
  return Object.keys(query)
    .sort()
    .map((key) => `${key}=${query[key] ? acsEncode(query[key]) : ""}`)
    .join("&");
}

/** The signed headers, lower-cased and sorted; repeated names (in any case) join their sorted values with ",". */
function canonicalHeaders(headers: Readonly<Record<string, string>>): { canonical: string; signed: string[] } {
  const values = new Map<string, string[]>();
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!lower.startsWith("x-acs-") && lower !== "host" && lower !== "content-type") continue;
    values.set(lower, [...(values.get(lower) ?? []), value.trim()]);
  }
  const signed = [...values.keys()].sort();
  return { canonical: signed.map((name) => `${name}:${(values.get(name) ?? []).sort().join(",")}\n`).join(""), signed };
}

/**
 * The `Authorization` header of `request` signed with an AccessKey pair:
 * `ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<a;b>,Signature=<hex>`, where the
 * signature is HMAC-SHA256 over `ACS3-HMAC-SHA256\n<hex sha256 of the canonical request>`.
 */
export function acs3Authorization(request: Acs3Request, accessKeyId: string, accessKeySecret: string): string {
  const path = (request.pathname || "/").replace(/\+/g, "%20").replace(/\*/g, "%2A").replace(/%7E/g, "~");
  const { canonical, signed } = canonicalHeaders(request.headers);
  const canonicalRequest = [request.method, path, canonicalQuery(request.query), canonical, signed.join(";"), request.payloadHash].join(
    "\n",
  );
  const signature = createHmac("sha256", accessKeySecret)
    .update(`${acs3Algorithm}\n${sha256Hex(canonicalRequest)}`)
    .digest("hex");
  return `${acs3Algorithm} Credential=${accessKeyId},SignedHeaders=${signed.join(";")},Signature=${signature}`;
}

/** `x-acs-date`: UTC to the second, as the utility's `GetTimestamp` formats it. */
export function acsDate(now: Date): string {
  return `${now.toISOString().slice(0, 19)}Z`;
}
