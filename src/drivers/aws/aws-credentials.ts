import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { type AwsCredentialConfig, awsProviderName } from "./aws-config.js";
import { resolveSecret } from "../../config/secret-ref.js";
import { raceAbort } from "../../common/deadline.js";
import { TtlCache } from "../../common/ttl-cache.js";
import { isUpstreamOutage } from "../../errors/upstream-error.js";
import { awsServiceError } from "./aws-errors.js";
import type { ProviderOptions } from "../driver.js";

/** The session name AssumeRole records in CloudTrail when the config names none. */
export const defaultRoleSessionName = "cluster-token-service";
/** The STS region for AssumeRole when the credential names none. */
export const defaultStsRegion = "us-east-1";
/**
 * Assumed-role credentials are renewed this long before they expire, so every token
 * signed with them can get its full 14 minutes.
 */
export const assumedRoleRefreshWindowMs = 15 * 60_000;
/** Credentials from the default chain that carry no expiry are looked up again after this. */
const undatedCredentialsTtlMs = 5 * 60_000;

/**
 * The AWS SDK tuning of every client the service builds: one attempt (the core
 * retries within each caller's deadline), request timeouts that really abort
 * (smithy only logs a warning by default), and the service's clock. The SDK signs
 * with the wall clock plus `systemClockOffset`, which it corrects from the Date
 * header of AWS's answers; starting it at the clock's offset makes its requests
 * carry the service's time, as the tokens signed here do.
 */
export function awsClientTuning({ upstreamTimeoutMs, clock }: ProviderOptions) {
  return {
    maxAttempts: 1,
    systemClockOffset: clock.now() - Date.now(),
    requestHandler: {
      connectionTimeout: Math.min(3_000, upstreamTimeoutMs),
      requestTimeout: upstreamTimeoutMs,
      throwOnRequestTimeout: true,
    },
  } as const;
}

/**
 * One AWS `credentials` entry ready to use. Credentials that need the network (the
 * default chain, AssumeRole) are cached until shortly before they expire and looked
 * up by one shared, time-bounded attempt at a time, which is dropped when it fails,
 * so a hung STS call can never outlive `upstreamTimeoutMs` nor poison later calls.
 */
export class AwsCredentialSource {
  /** What resolving calls, for errors: "sts:AssumeRole", "default credential chain" or "static credentials". */
  readonly operation: string;
  /** The same credentials as an SDK provider, for SDK clients; it waits at most one attempt. */
  readonly provider: AwsCredentialIdentityProvider;
  private readonly cache: TtlCache<"credentials", AwsCredentialIdentity> | undefined;
  private readonly sts: STSClient | undefined;

  constructor(
    private readonly entry: AwsCredentialConfig,
    private readonly options: ProviderOptions,
  ) {
    this.operation = entry.roleArn ? "sts:AssumeRole" : baseOperation(entry);
    const networked = entry.roleArn !== undefined || entry.source === "default";
    this.cache = networked
      ? new TtlCache({
          maxEntries: 1,
          attemptTimeoutMs: options.upstreamTimeoutMs,
          clock: options.clock,
          // Credentials due for renewal but still valid keep signing while STS is down.
          serveStaleOn: (err) => isUpstreamOutage(awsServiceError(err, { provider: awsProviderName, operation: this.operation })),
          onStale: (_key, err) =>
            options.warn?.(
              { provider: awsProviderName, operation: this.operation, error: err },
              "STS failed; signing with the still valid credentials",
            ),
        })
      : undefined;
    this.sts = entry.roleArn
      ? new STSClient({
          region: entry.region ?? defaultStsRegion,
          ...(entry.stsEndpoint ? { endpoint: entry.stsEndpoint } : {}),
          credentials: () => this.base(AbortSignal.timeout(options.upstreamTimeoutMs)),
          ...awsClientTuning(options),
        })
      : undefined;
    this.provider = () => this.resolve(AbortSignal.timeout(options.upstreamTimeoutMs));
  }

  /**
   * Current credentials. Static keys are read from their references every time, so
   * rotation needs no restart. Rejects with `signal.reason` when `signal` aborts
   * first; errors are otherwise left as the SDK throws them, for the driver to map.
   */
  resolve(signal: AbortSignal): Promise<AwsCredentialIdentity> {
    if (!this.cache) return this.staticCredentials();
    return this.cache.get("credentials", signal, async (attemptSignal) => {
      const credentials = this.sts ? await this.assumeRole(this.sts, attemptSignal) : await this.base(attemptSignal);
      const renewAt = credentials.expiration
        ? credentials.expiration.getTime() - (this.sts ? assumedRoleRefreshWindowMs : 60_000)
        : this.options.clock.now() + undatedCredentialsTtlMs;
      // Served while STS is down only as long as a token signed with them gets a minute of life.
      const staleUntil = credentials.expiration ? credentials.expiration.getTime() - 60_000 : undefined;
      return { value: credentials, expiresAt: renewAt, ...(staleUntil !== undefined ? { staleUntil } : {}) };
    });
  }

  /** Releases the SDK client's connections. */
  close(): void {
    this.sts?.destroy();
  }

  private async assumeRole(sts: STSClient, signal: AbortSignal): Promise<AwsCredentialIdentity> {
    const { entry } = this;
    const output = await sts.send(
      new AssumeRoleCommand({
        RoleArn: entry.roleArn,
        RoleSessionName: entry.sessionName ?? defaultRoleSessionName,
        ...(entry.externalId ? { ExternalId: entry.externalId } : {}),
        ...(entry.durationSeconds ? { DurationSeconds: entry.durationSeconds } : {}),
      }),
      { abortSignal: signal },
    );
    const c = output.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error("AssumeRole returned no credentials");
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
      ...(c.Expiration ? { expiration: c.Expiration } : {}),
    };
  }

  /** The credentials AssumeRole is signed with, or that sign directly without a role. */
  private base(signal: AbortSignal): Promise<AwsCredentialIdentity> {
    if (this.entry.source !== "default") return this.staticCredentials();
    // A fresh chain per attempt: the SDK memoizes the chain's pending lookup, and a
    // hung one would otherwise be shared by every later call.
    const chain = fromNodeProviderChain({ clientConfig: awsClientTuning(this.options) });
    return raceAbort(chain(), signal);
  }

  private async staticCredentials(): Promise<AwsCredentialIdentity> {
    const { accessKeyId, secretAccessKey, sessionToken } = this.entry;
    if (!accessKeyId || !secretAccessKey) throw new Error("@private config validation guarantees static keys");
    const [id, secret, session] = await Promise.all([
      resolveSecret(accessKeyId),
      resolveSecret(secretAccessKey),
      sessionToken ? resolveSecret(sessionToken) : undefined,
    ]);
    return session ? { accessKeyId: id, secretAccessKey: secret, sessionToken: session } : { accessKeyId: id, secretAccessKey: secret };
  }
}

function baseOperation(entry: AwsCredentialConfig): string {
  return entry.source === "default" ? "default credential chain" : "static credentials";
}

/** Builds the credential source of every aws `credentials` entry, once, so that cached credentials are shared. */
export function createAwsCredentialSources(
  entries: Readonly<Record<string, AwsCredentialConfig>>,
  options: ProviderOptions,
): ReadonlyMap<string, AwsCredentialSource> {
  return new Map(Object.entries(entries).map(([name, entry]) => [name, new AwsCredentialSource(entry, options)]));
}
