/** The longest name of a `credentials` entry, and so of a cloud identity a request may name. */
export const maxIdentityNameLength = 63;

/**
 * The name of a `credentials` entry, which is what a grant's `identities` and a
 * request's `identity` name: letters, digits, "_", "." and "-". The config and the
 * requests check the same rule, so a value that could never name an entry is refused
 * before anything is looked up, and such a name is safe in a log line, an audit line,
 * a metric label and an exec kubeconfig's arguments.
 */
export const identityNamePattern = /^[\w.-]{1,63}$/;

/** What an identity name must be, for error messages; it never echoes the value, which may hold control characters. */
export const identityNameRule = `1 to ${maxIdentityNameLength} characters of [A-Za-z0-9_.-]`;

/** True when `name` can be the name of a `credentials` entry. */
export function isIdentityName(name: string): boolean {
  return identityNamePattern.test(name);
}
