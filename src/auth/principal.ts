import { spiffePatternProblem, spiffeScheme } from "./spiffe-id.js";

/**
 * How a caller proved who it is. The kind is part of the principal's name, so an API
 * key and a certificate can never stand for the same principal, whatever names a CA
 * is made to sign.
 */
export type PrincipalKind = "key" | "cert" | "spiffe" | "anonymous";

/** An authenticated caller. */
export interface Principal {
  /**
   * What grants, audit lines and rate limits name, always with its kind:
   * `key:NAME` for an API key, `cert:NAME` for a certificate's DNS SAN or CN, the
   * SPIFFE ID itself (`spiffe://…`) for a certificate's URI SAN, or `anonymous`.
   */
  readonly name: string;
  readonly kind: PrincipalKind;
}

/** The prefix of API-key principals. */
export const keyPrefix = "key:";
/** The prefix of certificate principals named by a DNS SAN or the CN. */
export const certPrefix = "cert:";

/** The caller of `insecurePlaintext` development mode. */
export const anonymous: Principal = { name: "anonymous", kind: "anonymous" };

/** The principal of the API key called `name`. */
export function keyPrincipal(name: string): Principal {
  return { name: keyPrefix + name, kind: "key" };
}

/** The principal of a certificate identified by a DNS SAN or CN. */
export function certPrincipal(name: string): Principal {
  return { name: certPrefix + name, kind: "cert" };
}

/**
 * Says what is wrong with a grant's principal pattern, or returns undefined when it
 * is fine. A pattern must say which kind of principal it means: `key:GLOB`,
 * `cert:GLOB`, or a SPIFFE ID pattern `spiffe://…` (see {@link spiffePatternProblem}).
 */
export function principalPatternProblem(pattern: string): string | undefined {
  if (pattern.startsWith(spiffeScheme)) return spiffePatternProblem(pattern);
  const kind = [keyPrefix, certPrefix].find((prefix) => pattern.startsWith(prefix));
  if (!kind)
    return `must say which kind of principal it means: "key:NAME" (an API key), "cert:NAME" (a certificate's DNS SAN or CN) or "spiffe://…" (a certificate's SPIFFE ID)`;
  if (pattern.length === kind.length) return `must name a principal after "${kind}"`;
  return undefined;
}
