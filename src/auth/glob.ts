/**
 * A matcher for a glob over "/"-separated names: `*` stands for any run of
 * characters within one segment, `**` for any run across segments, and `?` for one
 * character other than "/"; everything else is literal. So `spiffe://corp/ns/ci/*`
 * matches `spiffe://corp/ns/ci/deployer` but not `spiffe://corp/ns/ci/x/y`.
 */
export function globMatcher(pattern: string): (value: string) => boolean {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === "*" && pattern[i + 1] === "*") {
      source += ".*";
      i++;
    } else if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else source += c.replace(/[.+^${}()|[\]\\]/, "\\$&");
  }
  const regexp = new RegExp(`^${source}$`, "s");
  return (value) => regexp.test(value);
}
