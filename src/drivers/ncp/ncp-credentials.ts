import type { NcpCredentialConfig, NcpCluster } from "./ncp-config.js";
import { resolveSecret } from "../../config/secret-ref.js";
import { credentialEntryFor } from "../credential-entry.js";

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
export async function ncpKeysFor(entries: ReadonlyMap<string, NcpCredentialConfig>, cluster: NcpCluster): Promise<NcpKeys> {
  const entry = credentialEntryFor(entries, cluster);
  const [accessKey, secretKey] = await Promise.all([resolveSecret(entry.accessKey), resolveSecret(entry.secretKey)]);
  return { accessKey, secretKey };
}
