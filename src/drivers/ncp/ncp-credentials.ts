import type { NcpCredentialConfig } from "../../config/config-schema.js";
import { resolveSecret } from "../../config/secret-ref.js";
import { ServiceError } from "../../errors/service-error.js";
import type { ClusterOf } from "../driver.js";

/** An NCP API key pair, resolved. */
export interface NcpKeys {
  accessKey: string;
  secretKey: string;
}

/**
 * Resolves the key pair `cluster` names, reading its references each time so that
 * rotation needs no restart.
 *
 * @throws ServiceError FAILED_PRECONDITION when a reference cannot be resolved.
 */
export async function ncpKeysFor(entries: Readonly<Record<string, NcpCredentialConfig>>, cluster: ClusterOf<"ncp">): Promise<NcpKeys> {
  const entry = entries[cluster.credentials];
  if (!entry) {
    throw new ServiceError({
      code: "FailedPrecondition",
      reason: "CREDENTIALS_NOT_CONFIGURED",
      message: `cluster ${cluster.id} names credentials "${cluster.credentials}", which are not configured for ncp`,
      metadata: { cluster_id: cluster.id, provider: "ncp" },
    });
  }
  const [accessKey, secretKey] = await Promise.all([resolveSecret(entry.accessKey), resolveSecret(entry.secretKey)]);
  return { accessKey, secretKey };
}
