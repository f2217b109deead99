/**
 * A matcher for a glob in which `*` stands for any run of characters (including
 * none, and including "/") and `?` for exactly one; everything else is literal.
 */
export function globMatcher(pattern: string): (value: string) => boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  const regexp = new RegExp(`^${source}$`, "s");
  return (value) => regexp.test(value);
}
