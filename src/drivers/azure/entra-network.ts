import { AsyncLocalStorage } from "node:async_hooks";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from "@azure/msal-node";
import { type ServiceError, isServiceError } from "../../errors/service-error.js";
import {
  abandonedError,
  upstreamBadResponse,
  upstreamHttpError,
  upstreamUnreachable,
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

const attempts = new AsyncLocalStorage<Attempt>();

/**
 * Runs `work` (an MSAL call) as one bounded attempt: every request MSAL makes in it
 * is aborted with `signal`, and a transport failure or HTTP error of those requests
 * becomes the portable error, instead of MSAL's generic `network_error` or
 * `ServerError`. MSAL takes no AbortSignal, hence the AsyncLocalStorage.
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
 * MSAL's HTTP client, replaced: node:http(s) with the credential's extra CA, a
 * per-request timeout, the attempt's abort signal, a size cap, and HTTP errors
 * other than OAuth's 400 recorded as the portable error. No proxy is used.
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

  private send<T>(method: string, url: string, options: NetworkRequestOptions | undefined): Promise<NetworkResponse<T>> {
    const attempt = attempts.getStore();
    const call = attempt?.call ?? { provider: azureProviderName, operation: "entra:token" };
    const signal = attempt ? AbortSignal.any([attempt.signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs);
    const fail = (error: ServiceError) => {
      if (attempt) attempt.failure = error;
      return error;
    };
    // The caller gave up (its deadline passed, or it cancelled), or the cloud was not reached in time.
    const transportError = (err: unknown) =>
      attempt?.signal.aborted ? abandonedError(call, attempt.signal) : upstreamUnreachable(call, err);
    const target = new URL(url);
    const request = target.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(
        target,
        { method, headers: options?.headers ?? {}, signal, ...(this.ca ? { ca: this.ca } : {}), agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxResponseBytes) req.destroy(new Error(`response larger than ${maxResponseBytes} bytes`));
            else chunks.push(chunk);
          });
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            // A token request's 400 is OAuth's error answer, which MSAL reads (invalid_client and the like); any other
            // error, a 400 from the metadata endpoint included (an unknown tenant), is the portable one.
            if (status >= 401 || (status >= 300 && status < 400) || (status === 400 && method !== "POST")) {
              reject(fail(upstreamHttpError(call, status)));
              return;
            }
            let body: T;
            try {
              body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as T;
            } catch (err) {
              reject(fail(upstreamBadResponse(call, err)));
              return;
            }
            const headers = Object.fromEntries(
              Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]),
            );
            resolve({ headers, body, status });
          });
          res.on("error", (err) => reject(fail(transportError(err))));
        },
      );
      req.on("error", (err) => reject(fail(transportError(err))));
      req.end(options?.body);
    });
  }
}
