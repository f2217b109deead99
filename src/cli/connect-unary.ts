import { requestJson } from "../common/http-json.js";

/**
 * One unary call in the Connect protocol's JSON form: a POST of the request as JSON
 * to `<base>/<service>/<method>`, answered by the response as JSON or an error
 * `{code, message, details}`.
 *
 * The credential command uses this instead of @connectrpc/connect-node because it
 * runs once per kubectl credential refresh: loading the Connect client costs about
 * 120 ms on this project's machines, against about 5 ms for node:http, and the
 * command's budget is a fifth of `aws eks get-token`'s time. Servers are the
 * maintained Connect implementation; this speaks only the documented wire format.
 */
export interface UnaryCallOptions {
  /** The service's base URL, http:// or https://. */
  baseUrl: string;
  /** `package.Service/Method`. */
  procedure: string;
  body: unknown;
  /** Sent as connect-timeout-ms, and enforced locally. */
  timeoutMs: number;
  headers?: Record<string, string>;
  /** TLS: trusted CA PEM, and a client certificate and key for mTLS. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

/** The outcome: a decoded 200 body, or the Connect error code and message. */
export type UnaryResult = { ok: true; text: string; json: unknown } | { ok: false; code: string; message: string; httpStatus: number };

/** Connect's code for an HTTP status when the body is not a Connect error. */
function codeFromHttpStatus(status: number): string {
  return (
    (
      {
        400: "invalid_argument",
        401: "unauthenticated",
        403: "permission_denied",
        404: "unimplemented",
        408: "deadline_exceeded",
        429: "unavailable",
        502: "unavailable",
        503: "unavailable",
        504: "unavailable",
      } as Record<number, string>
    )[status] ?? "unknown"
  );
}

/** The largest answer read: an ExecCredential is a few KiB. */
const maxResponseBytes = 1024 * 1024;

/**
 * Makes the call through the bounded reader (`common/http-json.ts`): one deadline
 * for the whole exchange, reading stopped at 1 MiB. A failure to get an answer
 * rejects with its `HttpReadError`, whose `code` is the socket's own (ECONNREFUSED,
 * UNABLE_TO_VERIFY_LEAF_SIGNATURE, …) or ETIMEDOUT, so the command can say why.
 */
export async function callUnary({ baseUrl, procedure, body, timeoutMs, headers = {}, tls }: UnaryCallOptions): Promise<UnaryResult> {
  const { status, text, json } = await requestJson({
    url: new URL(`${baseUrl.replace(/\/+$/, "")}/${procedure}`),
    method: "POST",
    headers: {
      "content-type": "application/json",
      "connect-protocol-version": "1",
      "connect-timeout-ms": String(timeoutMs),
      ...headers,
    },
    body: JSON.stringify(body),
    ...(tls ? { tls } : {}),
    timeoutMs,
    maxBytes: maxResponseBytes,
  });
  if (status === 200 && json !== undefined) return { ok: true, text, json };
  const error = json as { code?: unknown; message?: unknown } | undefined;
  return {
    ok: false,
    httpStatus: status,
    code: typeof error?.code === "string" ? error.code : fallbackCode(status),
    message: typeof error?.message === "string" ? error.message : fallbackMessage(status),
  };
}

/** The code of an answer without a Connect error body: a 200 that is not JSON is the server's fault. */
function fallbackCode(status: number): string {
  return status === 200 ? "internal" : codeFromHttpStatus(status);
}

function fallbackMessage(status: number): string {
  return status === 200 ? "the response is not JSON" : `HTTP ${status}`;
}
