import type { NcpCredentialConfig } from "./ncp-config.js";
import { resolveSecret } from "../../config/secret-ref.js";
import { type CredentialUser, credentialEntryFor } from "../credential-entry.js";

/** An NCP API key pair, resolved. */
export interface NcpKeys {
  accessKey: string;
  secretKey: string;
}

/**
 * Resolves the key pair `user` (a cluster or an account) names, reading its
 * references each time so that rotation needs no restart.
 *
 * @throws ServiceError FAILED_PRECONDITION when a reference cannot be resolved.
 */
export async function ncpKeysFor(entries: ReadonlyMap<string, NcpCredentialConfig>, user: CredentialUser): Promise<NcpKeys> {
  const entry = credentialEntryFor(entries, user);
  const [accessKey, secretKey] = await Promise.all([resolveSecret(entry.accessKey), resolveSecret(entry.secretKey)]);
  return { accessKey, secretKey };
}
