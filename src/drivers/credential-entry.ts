import { ServiceError } from "../errors/service-error.js";
import type { AccountBase, ClusterBase } from "../config/schema-parts.js";

/**
 * The credential entry (or what a driver built from it) that a cluster names, or
 * with `kind` "account", an `accounts` entry. Config validation makes a miss
 * impossible; a miss is still a typed FAILED_PRECONDITION rather than a crash.
 */
export function credentialEntryFor<T>(
  entries: ReadonlyMap<string, T>,
  owner: ClusterBase | AccountBase,
  kind: "cluster" | "account" = "cluster",
): T {
  const entry = entries.get(owner.credentials);
  if (entry !== undefined) return entry;
  throw new ServiceError({
    reason: "CREDENTIALS_NOT_CONFIGURED",
    message: `${kind} ${owner.id} names credentials "${owner.credentials}", which are not configured for ${owner.provider}`,
    metadata: { [`${kind}_id`]: owner.id, provider: owner.provider },
  });
}
