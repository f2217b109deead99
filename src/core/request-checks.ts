import { KubeconfigMode } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import type { ErrorReason } from "../errors/error-reasons.js";
import { ServiceError } from "../errors/service-error.js";
import { maxClusterIdLength } from "./cluster-id.js";
import { defaultExecCredentialApiVersion, execCredentialApiVersions } from "./exec-credential.js";
import { identityNameRule, isIdentityName } from "./identity-name.js";

/** INVALID_ARGUMENT with `reason`, naming the request field at fault. */
export function invalidArgument(field: string, reason: ErrorReason, message: string): ServiceError {
  return new ServiceError({ reason, message, metadata: { field } });
}

/** The ExecCredential apiVersion a GenerateToken asks for: the default when empty. @throws INVALID_ARGUMENT for an unknown one. */
export function validApiVersion(apiVersion: string): string {
  if (apiVersion === "") return defaultExecCredentialApiVersion;
  if (execCredentialApiVersions.includes(apiVersion)) return apiVersion;
  const shown = apiVersion.length > maxClusterIdLength ? `${apiVersion.slice(0, maxClusterIdLength)}…` : apiVersion;
  throw invalidArgument(
    "api_version",
    "UNSUPPORTED_API_VERSION",
    `api_version ${JSON.stringify(shown)} is not supported; use one of ${execCredentialApiVersions.join(", ")}`,
  );
}

/** @throws INVALID_ARGUMENT for a mode this service does not know. */
export function validMode(mode: KubeconfigMode): void {
  if (mode === KubeconfigMode.UNSPECIFIED || mode === KubeconfigMode.EMBEDDED_TOKEN || mode === KubeconfigMode.EXEC) return;
  throw invalidArgument("mode", "UNSUPPORTED_KUBECONFIG_MODE", `mode ${mode} is not a known KubeconfigMode`);
}

/**
 * The cloud identity a minting request names, empty when it names none.
 * @throws INVALID_ARGUMENT `INVALID_IDENTITY` for a value that cannot name a
 *   credentials entry (too long, control characters, other characters), before
 *   anything is looked up; the message never echoes it.
 */
export function validIdentity(identity: string): string {
  if (identity === "" || isIdentityName(identity)) return identity;
  throw invalidArgument("identity", "INVALID_IDENTITY", `identity must be empty or ${identityNameRule}, the name of a credentials entry`);
}
