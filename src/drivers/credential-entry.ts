import { ServiceError } from "../errors/service-error.js";
import type { ClusterBase } from "../config/schema-parts.js";

/**
 * The credential entry (or what a driver built from it) that `cluster` names.
 * Config validation makes a miss impossible; a miss is still a typed
 * FAILED_PRECONDITION rather than a crash.
 */
export function credentialEntryFor<T>(entries: ReadonlyMap<string, T>, cluster: ClusterBase): T {
  const entry = entries.get(cluster.credentials);
  if (entry !== undefined) return entry;
  throw new ServiceError({
    reason: "CREDENTIALS_NOT_CONFIGURED",
    message: `cluster ${cluster.id} names credentials "${cluster.credentials}", which are not configured for ${cluster.provider}`,
    metadata: { cluster_id: cluster.id, provider: cluster.provider },
  });
}
