import {
  abandonedError,
  upstreamBadResponse,
  upstreamHttpError,
  upstreamUnreachable,
  type UpstreamCall,
} from "../errors/upstream-error.js";

/** The longest JSON body read from a cloud API; cluster descriptions are a few KiB. */
const maxResponseBytes = 1024 * 1024;

/**
 * Fetches a cloud API's JSON (a GET, or `method` without a body), in one attempt of at most `timeoutMs`, with the portable
 * error mapping every driver shares: the caller's abort is DEADLINE_EXCEEDED or
 * CANCELED, a connection failure or the request timeout is UPSTREAM_UNREACHABLE, an HTTP error goes through `upstreamHttpError`,
 * and a body that is not JSON (or is too large) is UPSTREAM_BAD_RESPONSE.
 */
export async function fetchUpstreamJson(
  call: UpstreamCall,
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal,
  timeoutMs: number,
  method = "GET",
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { accept: "application/json", ...headers },
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
  } catch (err) {
    throw signal.aborted ? abandonedError(call, signal) : upstreamUnreachable(call, err);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw upstreamHttpError(call, response.status);
  }
  let text: string;
  try {
    const bytes = await response.arrayBuffer();
    if (bytes.byteLength > maxResponseBytes) throw new Error(`response of ${bytes.byteLength} bytes`);
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (err) {
    throw signal.aborted ? abandonedError(call, signal) : upstreamBadResponse(call, err);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw upstreamBadResponse(call, err);
  }
}
