/** The longest cluster id accepted, a DNS label's length, so ids fit in hostnames, file names and kubeconfig names. */
export const maxClusterIdLength = 63;

/**
 * A cluster id: lower-case letters, digits, "-" and ".", starting and ending with a
 * letter or digit. The same rule applies to the registry and to requests, so an id
 * that cannot be registered is rejected before any lookup.
 */
export const clusterIdPattern = /^[a-z0-9](?:[a-z0-9.-]{0,61}[a-z0-9])?$/;

/** Says what is wrong with a cluster id, or returns undefined when it is valid. */
export function clusterIdProblem(id: string): string | undefined {
  if (id.length === 0) return "is required";
  if (id.length > maxClusterIdLength) return `is ${id.length} characters long; the maximum is ${maxClusterIdLength}`;
  if (!clusterIdPattern.test(id)) {
    return 'must be lower-case letters, digits, "-" and ".", starting and ending with a letter or digit';
  }
  return undefined;
}
