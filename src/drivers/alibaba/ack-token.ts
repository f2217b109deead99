import type { MintedToken } from "../driver.js";
import { acs3Authorization, acsDate, sha256Hex } from "./acs3-signature.js";
import type { AlibabaKeys } from "./alibaba-credentials.js";

// The protocol of ack-ram-tool's pkg/ramauthenticator (token.go).

/** Every ACK RAM token starts with this, followed by standard base64 of a JSON request. */
export const ackTokenPrefix = "k8s-ack-v2.";
/** What ack-ram-authenticator accepts: the signed request's `x-acs-date` at most 15 minutes old. */
export const ackTokenValidityMs = 15 * 60_000;
/**
 * The expiry reported, as ack-ram-tool reports it: 5 minutes short of the validity,
 * so kubectl asks for a new token while the old one still works, whatever the
 * clock skew between here, the authenticator and STS.
 */
export const ackTokenLifetimeMs = ackTokenValidityMs - 5 * 60_000;
/** The User-Agent ack-ram-tool puts in the token (not signed). */
const userAgent = "ack-ram-tool";

/**
 * Mints an ACK RAM token as ack-ram-tool does: `k8s-ack-v2.` and the base64 of
 * `{"clusterId","method","path","query","headers"}` describing an ACS3-signed STS
 * `GetCallerIdentity` (2015-04-01) request with `ACKClusterId` in its query. The
 * cluster's ack-ram-authenticator checks the cluster id, replays the request to STS
 * and maps the caller it learns to a Kubernetes user. No network call is made here.
 */
export function mintAckToken({ keys, clusterId, now }: { keys: AlibabaKeys; clusterId: string; now: Date }): MintedToken {
  const query = { ACKClusterId: clusterId };
  const payloadHash = sha256Hex("");
  const signed: Record<string, string> = {
    "x-acs-version": "2015-04-01",
    "x-acs-action": "GetCallerIdentity",
    "x-acs-date": acsDate(now),
    "x-acs-content-sha256": payloadHash,
    ...(keys.securityToken ? { "x-acs-security-token": keys.securityToken } : {}),
  };
  const authorization = acs3Authorization(
    { method: "POST", pathname: "/", query, headers: signed, payloadHash },
    keys.accessKeyId,
    keys.accessKeySecret,
  );
  const headers = sortedKeys({ "user-agent": userAgent, ...signed, Authorization: authorization });
  // Go's encoding/json writes struct fields in declaration order and map keys sorted, as here.
  const body = JSON.stringify({ clusterId, method: "POST", path: "/", query, headers });
  const lifetimeEnd = now.getTime() + ackTokenLifetimeMs;
  const expiresAt = keys.expiresAt && keys.expiresAt.getTime() < lifetimeEnd ? keys.expiresAt : new Date(lifetimeEnd);
  return { token: ackTokenPrefix + Buffer.from(body).toString("base64"), expiresAt };
}

function sortedKeys(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => Number(a > b) - Number(a < b)));
}
