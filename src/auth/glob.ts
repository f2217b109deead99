/**
 * One token of a glob: a literal character, `?` (one character other than "/"),
 * `*` (a run within one segment) or `**` (a run across segments).
 */
export type GlobToken = { readonly literal: string } | "one" | "segmentRun" | "anyRun";

/** The tokens of a glob pattern, in order: what {@link globMatcher} and `globMayMatch` read. */
export function globTokens(pattern: string): GlobToken[] {
  const tokens: GlobToken[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === "*" && pattern[i + 1] === "*") {
      tokens.push("anyRun");
      i++;
    } else if (c === "*") tokens.push("segmentRun");
    else if (c === "?") tokens.push("one");
    else tokens.push({ literal: c });
  }
  return tokens;
}

const tokenSource: Record<Exclude<GlobToken, { literal: string }>, string> = { one: "[^/]", segmentRun: "[^/]*", anyRun: ".*" };

/**
 * A matcher for a glob over "/"-separated names: `*` stands for any run of
 * characters within one segment, `**` for any run across segments, and `?` for one
 * character other than "/"; everything else is literal. So `spiffe://corp/ns/ci/*`
 * matches `spiffe://corp/ns/ci/deployer` but not `spiffe://corp/ns/ci/x/y`.
 */
export function globMatcher(pattern: string): (value: string) => boolean {
  const source = globTokens(pattern)
    .map((token) => (typeof token === "string" ? tokenSource[token] : token.literal.replace(/[.*+?^${}()|[\]\\]/, "\\$&")))
    .join("");
  const regexp = new RegExp(`^${source}$`, "s");
  return (value) => regexp.test(value);
}
