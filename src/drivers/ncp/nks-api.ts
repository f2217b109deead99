import type { Clock } from "../../common/clock.js";
import type { UpstreamCall } from "../../errors/upstream-error.js";
import type { CredentialUser } from "../credential-entry.js";
import { fetchUpstreamJson } from "../upstream-fetch.js";
import type { NcpCredentialConfig } from "./ncp-config.js";
import { ncpKeysFor } from "./ncp-credentials.js";
import { ncpGatewayHeaders } from "./ncp-signature.js";

/** The NKS API gateway of NAVER Cloud's public regions (KR, SGN and JPN, told apart by path). */
export const defaultNksApiEndpoint = "https://nks.apigw.ntruss.com";

/**
 * The NKS API behind NAVER Cloud's API gateway: a GET signed with the gateway's
 * signature v2 by the key pair a cluster or an account names, on its `apiEndpoint`
 * (the government and financial clouds have their own gateways), read by the
 * bounded reader in one attempt.
 */
export class NksApi {
  constructor(
    private readonly credentials: ReadonlyMap<string, NcpCredentialConfig>,
    private readonly upstreamTimeoutMs: number,
    private readonly clock: Clock,
  ) {}

  /** GETs `path` (already percent-encoded, e.g. `/vnks/v2/clusters`) as `user`, and returns its JSON. */
  async get(
    call: UpstreamCall,
    user: CredentialUser & { readonly apiEndpoint?: string | undefined },
    path: string,
    signal: AbortSignal,
    maxBytes?: number,
  ): Promise<unknown> {
    const keys = await ncpKeysFor(this.credentials, user);
    const url = new URL(`${(user.apiEndpoint ?? defaultNksApiEndpoint).replace(/\/+$/, "")}${path}`);
    const headers = ncpGatewayHeaders(keys, "GET", url.pathname + url.search, new Date(this.clock.now()));
    return fetchUpstreamJson(call, { url, headers, signal, timeoutMs: this.upstreamTimeoutMs, ...(maxBytes ? { maxBytes } : {}) });
  }
}
