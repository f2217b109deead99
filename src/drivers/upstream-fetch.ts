import { requestJson } from "../common/http-json.js";
import type { ServiceError } from "../errors/service-error.js";
import { upstreamBadResponse, upstreamHttpError, upstreamReadError, type UpstreamCall } from "../errors/upstream-error.js";

/** The longest JSON body read from a cloud API; cluster descriptions and credentials are a few KiB. */
export const maxUpstreamResponseBytes = 1024 * 1024;

/** One request to a cloud's JSON API. */
export interface UpstreamRequest {
  readonly url: URL;
  /** GET when absent; a POST without `body` is sent empty. */
  readonly method?: "GET" | "POST";
  readonly headers?: Readonly<Record<string, string>>;
  /** The request body, exactly as it was signed. */
  readonly body?: string;
  /** Aborted when the callers gave up or the shared attempt's time passed. */
  readonly signal: AbortSignal;
  /** One attempt's limit (`limits.upstreamTimeoutSeconds`), for the whole exchange. */
  readonly timeoutMs: number;
  /** CAs trusted besides the system's, such as Azure's `caFile`. */
  readonly ca?: Buffer | undefined;
  /** The largest body read; {@link maxUpstreamResponseBytes} when absent. A page of a listing may need more. */
  readonly maxBytes?: number;
  /**
   * The cloud's own reading of an answer that is not a 2xx, from its status and JSON
   * body (some APIs say "throttled" or "credentials refused" with a 400 and a code
   * in the body); `upstreamHttpError` by the status alone when it returns undefined.
   */
  readonly errorOf?: (status: number, json: unknown) => ServiceError | undefined;
}

/**
 * Asks a cloud API for JSON in one attempt through the bounded reader
 * (`common/http-json.ts`: one deadline, the caller's signal, reading stops at
 * `maxBytes`), with the portable error mapping every driver
 * shares: the caller's abort is DEADLINE_EXCEEDED or CANCELED, no connection or no
 * answer in time is UPSTREAM_UNREACHABLE, an untrusted certificate is
 * UPSTREAM_TLS_UNTRUSTED, an HTTP error goes through `errorOf` then `upstreamHttpError`, and a body
 * that is not JSON, or too large, is UPSTREAM_BAD_RESPONSE.
 */
export async function fetchUpstreamJson(
  call: UpstreamCall,
  { url, method = "GET", headers = {}, body, signal, timeoutMs, ca, maxBytes = maxUpstreamResponseBytes, errorOf }: UpstreamRequest,
): Promise<unknown> {
  let answer;
  try {
    answer = await requestJson({
      url,
      method,
      headers: { accept: "application/json", ...headers },
      ...(body !== undefined ? { body } : {}),
      tls: { ca },
      timeoutMs,
      signal,
      maxBytes,
    });
  } catch (err) {
    throw upstreamReadError(call, err, signal);
  }
  if (answer.status < 200 || answer.status > 299) throw errorOf?.(answer.status, answer.json) ?? upstreamHttpError(call, answer.status);
  if (answer.json === undefined) throw upstreamBadResponse(call, new Error(`a ${answer.text.length}-character body that is not JSON`));
  return answer.json;
}
