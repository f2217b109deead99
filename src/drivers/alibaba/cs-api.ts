import type { Clock } from "../../common/clock.js";
import type { UpstreamCall } from "../../errors/upstream-error.js";
import type { CredentialUser } from "../credential-entry.js";
import { fetchUpstreamJson } from "../upstream-fetch.js";
import { type AlibabaCredentials, signedAcsHeaders } from "./alibaba-credentials.js";

/** The Container Service API version (ROA style) of every call the service makes. */
export const csApiVersion = "2015-12-15";

/** The Container Service API of a region, e.g. https://cs.cn-hangzhou.aliyuncs.com. */
export function defaultCsEndpoint(region: string): string {
  return `https://cs.${region}.aliyuncs.com`;
}

/** One ROA request to the Container Service: its action, path (percent-encoded) and query. */
export interface CsRequest {
  readonly action: string;
  readonly pathname: string;
  readonly query: Readonly<Record<string, string>>;
}

/**
 * The Container Service API, ACS3-signed with the keys (or assumed role) a cluster
 * or an account names, on its `apiEndpoint` or the region's public endpoint, read by
 * the bounded reader in one attempt.
 */
export class ContainerServiceApi {
  constructor(
    private readonly credentials: AlibabaCredentials,
    private readonly upstreamTimeoutMs: number,
    private readonly clock: Clock,
  ) {}

  /** GETs `request` in `region` as `user`, and returns its JSON. */
  async get(
    call: UpstreamCall,
    user: CredentialUser & { readonly apiEndpoint?: string | undefined },
    region: string,
    { action, pathname, query }: CsRequest,
    signal: AbortSignal,
    maxBytes?: number,
  ): Promise<unknown> {
    const keys = await this.credentials.keysFor(user, signal);
    const url = new URL(`${(user.apiEndpoint ?? defaultCsEndpoint(region)).replace(/\/+$/, "")}${pathname}`);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const headers = signedAcsHeaders(keys, {
      method: "GET",
      pathname: url.pathname,
      query: { ...query },
      action,
      version: csApiVersion,
      host: url.host,
      now: new Date(this.clock.now()),
    });
    return fetchUpstreamJson(call, { url, headers, signal, timeoutMs: this.upstreamTimeoutMs, ...(maxBytes ? { maxBytes } : {}) });
  }
}
