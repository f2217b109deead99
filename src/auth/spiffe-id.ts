/** Every SPIFFE ID starts with this. */
export const spiffeScheme = "spiffe://";
/** The longest SPIFFE ID the spec allows, in bytes. */
export const maxSpiffeIdLength = 2048;

/** A trust domain: lower-case letters, digits, ".", "-" and "_" (SPIFFE-ID.md §2.1). */
const trustDomainPattern = /^[a-z0-9._-]+$/;
/** A path segment: letters, digits, ".", "-" and "_" (SPIFFE-ID.md §2.2). */
const segmentPattern = /^[A-Za-z0-9._-]+$/;
/** A segment of a grant pattern: the same, plus the globs "*" and "?" (or a whole "**"). */
const patternSegmentPattern = /^(?:\*\*|[A-Za-z0-9._\-*?]+)$/;

/**
 * Says what makes `id` not a SPIFFE ID, or returns undefined when it is one. The
 * rules are the SPIFFE ID spec's: scheme `spiffe`, a trust domain of
 * `[a-z0-9._-]`, then path segments of `[A-Za-z0-9._-]`, none empty, "." or "..";
 * no port, user info, query, fragment, percent-encoding or trailing "/". IDs are
 * parsed by these rules, never matched as free text, so `…/ci/../admin` cannot pose
 * as a path under `…/ci/`.
 */
export function spiffeIdProblem(id: string): string | undefined {
  return problem(id, segmentPattern, trustDomainPattern);
}

/**
 * Says what makes `pattern` not a SPIFFE ID pattern for grants: a SPIFFE ID whose
 * trust domain and segments may also hold the globs `*` and `?` (within one segment)
 * and whose segments may be `**` (any number of segments).
 */
export function spiffePatternProblem(pattern: string): string | undefined {
  return problem(pattern, patternSegmentPattern, /^[a-z0-9._\-*?]+$/);
}

function problem(id: string, segment: RegExp, trustDomain: RegExp): string | undefined {
  if (!id.startsWith(spiffeScheme)) return 'must start with "spiffe://"';
  if (id.length > maxSpiffeIdLength) return `is longer than ${maxSpiffeIdLength} characters`;
  if (/[?#]/.test(id)) return "must not have a query or fragment";
  if (id.includes("%")) return "must not be percent-encoded";
  const rest = id.slice(spiffeScheme.length);
  const slash = rest.indexOf("/");
  const domain = slash === -1 ? rest : rest.slice(0, slash);
  if (!trustDomain.test(domain)) return "must have a trust domain of lower-case letters, digits, '.', '-' and '_' (no port or user info)";
  if (slash === -1) return undefined;
  for (const s of rest.slice(slash + 1).split("/")) {
    if (s === "") return "must not have empty path segments or a trailing '/'";
    if (s === "." || s === "..") return "must not have '.' or '..' path segments";
    if (!segment.test(s)) return "must have path segments of letters, digits, '.', '-' and '_'";
  }
  return undefined;
}
