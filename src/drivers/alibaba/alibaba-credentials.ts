import { randomUUID } from "node:crypto";
import { resolveSecret } from "../../config/secret-ref.js";
import { TtlCache } from "../../common/ttl-cache.js";
import { sharedLookupError, upstreamBadResponse, type UpstreamCall } from "../../errors/upstream-error.js";
import { type CredentialUser, credentialEntryFor, credentialUserMetadata } from "../credential-entry.js";
import { fetchUpstreamJson } from "../upstream-fetch.js";
import { acs3Authorization, acsDate, sha256Hex } from "./acs3-signature.js";
import type { Clock } from "../../common/clock.js";
import { type AlibabaCredentialConfig, alibabaProviderName } from "./alibaba-config.js";

/** An AccessKey pair, with the STS security token and expiry of assumed-role credentials. */
export interface AlibabaKeys {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  expiresAt?: Date;
}

/** Assumed-role credentials are renewed while this much of their life remains, so a token signed with them outlives its 10 minutes. */
const renewBeforeMs = 15 * 60_000;

/**
 * The headers of one ACS3-signed Alibaba Cloud API request: the action, version,
 * date, nonce and payload hash, the STS token of assumed-role keys, and the
 * Authorization header. `host` is signed when given.
 */
export function signedAcsHeaders(
  keys: AlibabaKeys,
  request: { method: string; pathname: string; query: Record<string, string>; action: string; version: string; host?: string; now: Date },
): Record<string, string> {
  const payloadHash = sha256Hex("");
  const headers: Record<string, string> = {
    ...(request.host ? { host: request.host } : {}),
    "x-acs-action": request.action,
    "x-acs-version": request.version,
    "x-acs-date": acsDate(request.now),
    "x-acs-signature-nonce": randomUUID(),
    "x-acs-content-sha256": payloadHash,
    ...(keys.securityToken ? { "x-acs-security-token": keys.securityToken } : {}),
  };
  const authorization = acs3Authorization({ ...request, headers, payloadHash }, keys.accessKeyId, keys.accessKeySecret);
  const { host: _host, ...sent } = headers; // fetch sets Host itself, to the same value
  return { ...sent, authorization };
}

/**
 * The AccessKey pair each Alibaba credential entry signs with: the configured pair
 * (read each time, so rotation needs no restart), or, with `roleArn`, STS
 * credentials of that RAM role, assumed with the pair and reused until 15 minutes
 * before they expire. Concurrent callers share one AssumeRole.
 */
export class AlibabaCredentials {
  private readonly assumed: TtlCache<string, AlibabaKeys>;

  constructor(
    private readonly entries: ReadonlyMap<string, AlibabaCredentialConfig>,
    private readonly upstreamTimeoutMs: number,
    private readonly clock: Clock,
  ) {
    this.assumed = new TtlCache({
      maxEntries: Math.max(1, entries.size),
      attemptTimeoutMs: upstreamTimeoutMs,
      clock,
    });
  }

  /**
   * The keys of the credential `user` (a cluster or an account) names; a cluster and
   * an account naming one entry share its assumed role.
   *
   * @throws ServiceError FAILED_PRECONDITION when a reference cannot be resolved or STS refuses the role.
   */
  async keysFor(user: CredentialUser, signal: AbortSignal): Promise<AlibabaKeys> {
    const entry = credentialEntryFor(this.entries, user);
    if (!entry.roleArn) return this.accessKeys(entry);
    const roleArn = entry.roleArn;
    try {
      return await this.assumed.get(user.credentials, signal, async (attempt) => {
        const keys = await this.assumeRole(entry, roleArn, await this.accessKeys(entry), attempt, user);
        return { value: keys, expiresAt: (keys.expiresAt?.getTime() ?? 0) - renewBeforeMs };
      });
    } catch (err) {
      throw sharedLookupError(err, signal, assumeRoleCall(user));
    }
  }

  private async accessKeys(entry: AlibabaCredentialConfig): Promise<AlibabaKeys> {
    const [accessKeyId, accessKeySecret] = await Promise.all([resolveSecret(entry.accessKeyId), resolveSecret(entry.accessKeySecret)]);
    return { accessKeyId, accessKeySecret };
  }

  /** STS AssumeRole (RPC style, 2015-04-01), signed with ACS3 like every other call. */
  private async assumeRole(
    entry: AlibabaCredentialConfig,
    roleArn: string,
    keys: AlibabaKeys,
    signal: AbortSignal,
    user: CredentialUser,
  ): Promise<AlibabaKeys> {
    const call = assumeRoleCall(user);
    const url = new URL(`${entry.stsEndpoint.replace(/\/+$/, "")}/`);
    const query: Record<string, string> = {
      RoleArn: roleArn,
      RoleSessionName: entry.roleSessionName,
      DurationSeconds: String(entry.durationSeconds),
      ...(entry.externalId ? { ExternalId: entry.externalId } : {}),
    };
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const headers = signedAcsHeaders(keys, {
      method: "POST",
      pathname: "/",
      query,
      action: "AssumeRole",
      version: "2015-04-01",
      host: url.host,
      now: new Date(this.clock.now()),
    });
    const body = (await fetchUpstreamJson(call, { url, method: "POST", headers, signal, timeoutMs: this.upstreamTimeoutMs })) as {
      Credentials?: { AccessKeyId?: unknown; AccessKeySecret?: unknown; SecurityToken?: unknown; Expiration?: unknown };
    };
    const c = body?.Credentials;
    const expiresAt = typeof c?.Expiration === "string" ? new Date(c.Expiration) : undefined;
    if (
      typeof c?.AccessKeyId !== "string" ||
      typeof c.AccessKeySecret !== "string" ||
      typeof c.SecurityToken !== "string" ||
      !expiresAt ||
      Number.isNaN(expiresAt.getTime())
    ) {
      throw upstreamBadResponse(call, new Error("AssumeRole returned no complete credentials"));
    }
    return { accessKeyId: c.AccessKeyId, accessKeySecret: c.AccessKeySecret, securityToken: c.SecurityToken, expiresAt };
  }
}

function assumeRoleCall(user: CredentialUser): UpstreamCall {
  return { provider: alibabaProviderName, operation: "sts:AssumeRole", metadata: credentialUserMetadata(user) };
}
