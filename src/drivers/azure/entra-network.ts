import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from "@azure/msal-node";
import { AttemptContext } from "../../common/attempt-context.js";
import { requestJson } from "../../common/http-json.js";
import { type ServiceError, isServiceError } from "../../errors/service-error.js";
import {
  abandonedError,
  upstreamBadResponse,
  upstreamHttpError,
  upstreamReadError,
  type UpstreamCall,
} from "../../errors/upstream-error.js";
import { azureProviderName } from "./azure-config.js";

/** The largest answer read from Entra ID; token responses are a few KiB. */
const maxResponseBytes = 256 * 1024;

/** One attempt's context, reaching MSAL's requests: its signal, and the failure MSAL would otherwise hide. */
interface Attempt {
  readonly signal: AbortSignal;
  readonly call: UpstreamCall;
  failure?: ServiceError;
}

const attempts = new AttemptContext<Attempt>();

/**
 * Runs `work` (an MSAL call) as one bounded attempt: every request MSAL makes in it
 * is aborted with `signal`, and a transport failure or HTTP error of those requests
 * becomes the portable error, instead of MSAL's generic `network_error` or
 * `ServerError`. MSAL takes no AbortSignal, hence the AttemptContext.
 */
export async function withEntraAttempt<T>(call: UpstreamCall, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  const attempt: Attempt = { signal, call };
  try {
    return await attempts.run(attempt, work);
  } catch (err) {
    if (signal.aborted) throw abandonedError(call, signal);
    if (attempt.failure) throw attempt.failure;
    if (isServiceError(err)) throw err;
    const code = (err as { errorCode?: unknown }).errorCode;
    // Entra ID answered 400 with an OAuth error: the service's own credentials or request were refused.
    if (typeof code === "string" && /^(invalid_client|unauthorized_client|invalid_grant|invalid_request|invalid_scope)$/.test(code))
      throw upstreamHttpError(call, 401, err);
    throw upstreamBadResponse(call, err);
  }
}

/**
 * MSAL's HTTP client, replaced by the bounded reader (`common/http-json.ts`): the
 * credential's extra CA, one deadline per request, the attempt's abort signal, a
 * size cap, and every failure but OAuth's 400 recorded as the portable error, an
 * untrusted certificate included (UPSTREAM_TLS_UNTRUSTED). No proxy is used.
 */
export class EntraNetwork implements INetworkModule {
  constructor(
    private readonly timeoutMs: number,
    private readonly ca: Buffer | undefined,
  ) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>("GET", url, options);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>("POST", url, options);
  }

  private async send<T>(method: "GET" | "POST", url: string, options: NetworkRequestOptions | undefined): Promise<NetworkResponse<T>> {
    const attempt = attempts.current();
    const call = attempt?.call ?? { provider: azureProviderName, operation: "entra:token" };
    try {
      const answer = await requestJson({
        url: new URL(url),
        method,
        headers: options?.headers ?? {},
        ...(options?.body === undefined ? {} : { body: options.body }),
        tls: { ca: this.ca },
        timeoutMs: this.timeoutMs,
        signal: attempt?.signal,
        maxBytes: maxResponseBytes,
      });
      const { status } = answer;
      // A token request's 400 is OAuth's error answer, which MSAL reads (invalid_client and the like); any other
      // error, a 400 from the metadata endpoint included (an unknown tenant), is the portable one.
      if (status >= 401 || (status >= 300 && status < 400) || (status === 400 && method !== "POST")) throw upstreamHttpError(call, status);
      if (answer.json === undefined) throw upstreamBadResponse(call, new Error("Entra ID answered with a body that is not JSON"));
      const headers = Object.fromEntries(Object.entries(answer.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]));
      return { headers, body: answer.json as T, status };
    } catch (err) {
      const failure = isServiceError(err) ? err : upstreamReadError(call, err, attempt?.signal);
      if (attempt) attempt.failure = failure;
      throw failure;
    }
  }
}
