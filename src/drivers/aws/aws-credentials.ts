import { fromNodeProviderChain, fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import { memoize } from "@smithy/core/config";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import type { AwsCredentialConfig } from "../../config/config-schema.js";
import { resolveSecret } from "../../config/secret-ref.js";

/** The session name AssumeRole records in CloudTrail when the config names none. */
export const defaultRoleSessionName = "cluster-token-service";
/** The STS region for AssumeRole when the credential names none. */
export const defaultStsRegion = "us-east-1";
/**
 * Assumed-role credentials are renewed this long before they expire, so every token
 * signed with them can get its full 14 minutes.
 */
export const assumedRoleRefreshWindowMs = 15 * 60_000;

/** Timeouts and retries of the service's own STS calls; the caller's deadline still bounds each request. */
const stsClientTuning = { maxAttempts: 3, requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 } } as const;

/**
 * Builds the credential provider of one AWS `credentials` entry:
 *
 * - static keys from `{ env }`/`{ file }` references, read on every call so that
 *   rotation needs no restart;
 * - or `source: default`, the AWS SDK default chain (environment, shared profile,
 *   IRSA web identity, container and instance metadata);
 * - then, with `roleArn`, STS AssumeRole signed by the above, memoized until shortly
 *   before the temporary credentials expire.
 *
 * Errors are left as the SDK or `resolveSecret` throws them; the driver maps them.
 */
export function createAwsCredentialProvider(entry: AwsCredentialConfig): AwsCredentialIdentityProvider {
  const base = entry.source === "default" ? fromNodeProviderChain() : staticCredentials(entry);
  if (!entry.roleArn) return base;
  const assumeRole = fromTemporaryCredentials({
    params: {
      RoleArn: entry.roleArn,
      RoleSessionName: entry.sessionName ?? defaultRoleSessionName,
      ...(entry.externalId ? { ExternalId: entry.externalId } : {}),
      ...(entry.durationSeconds ? { DurationSeconds: entry.durationSeconds } : {}),
    },
    masterCredentials: base,
    clientConfig: {
      region: entry.region ?? defaultStsRegion,
      ...(entry.stsEndpoint ? { endpoint: entry.stsEndpoint } : {}),
      ...stsClientTuning,
    },
  });
  return memoize(
    assumeRole,
    (credentials: AwsCredentialIdentity) => credentials.expiration !== undefined && credentials.expiration.getTime() - Date.now() < assumedRoleRefreshWindowMs,
    (credentials: AwsCredentialIdentity) => credentials.expiration !== undefined,
  );
}

function staticCredentials(entry: AwsCredentialConfig): AwsCredentialIdentityProvider {
  const { accessKeyId, secretAccessKey, sessionToken } = entry;
  if (!accessKeyId || !secretAccessKey) throw new Error("@private config validation guarantees static keys");
  return async () => {
    const [id, secret, session] = await Promise.all([
      resolveSecret(accessKeyId),
      resolveSecret(secretAccessKey),
      sessionToken ? resolveSecret(sessionToken) : undefined,
    ]);
    return session ? { accessKeyId: id, secretAccessKey: secret, sessionToken: session } : { accessKeyId: id, secretAccessKey: secret };
  };
}

/** One `credentials` entry ready to use: its provider and what resolving it calls, for errors. */
export interface AwsCredentialSource {
  readonly provider: AwsCredentialIdentityProvider;
  readonly operation: string;
}

/** Builds the credential source of every aws `credentials` entry, once, so that memoized assumed roles are shared. */
export function createAwsCredentialSources(entries: Readonly<Record<string, AwsCredentialConfig>>): ReadonlyMap<string, AwsCredentialSource> {
  return new Map(
    Object.entries(entries).map(([name, entry]) => [
      name,
      {
        provider: createAwsCredentialProvider(entry),
        operation: entry.roleArn ? "sts:AssumeRole" : entry.source === "default" ? "default credential chain" : "static credentials",
      },
    ]),
  );
}
