import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";

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

const maxResponseBytes = 1024 * 1024;

/** Makes the call. Network failures reject with the Node error (its `code` says why). */
export function callUnary({ baseUrl, procedure, body, timeoutMs, headers = {}, tls }: UnaryCallOptions): Promise<UnaryResult> {
  const url = new URL(`${baseUrl.replace(/\/+$/, "")}/${procedure}`);
  const payload = Buffer.from(JSON.stringify(body));
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "connect-protocol-version": "1",
          "connect-timeout-ms": String(timeoutMs),
          "content-length": String(payload.byteLength),
          ...headers,
        },
        timeout: timeoutMs,
        ...(tls ?? {}),
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.byteLength;
          if (size > maxResponseBytes) req.destroy(Object.assign(new Error("response too large"), { code: "ERESPONSETOOLARGE" }));
          else chunks.push(chunk);
        });
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          const status = res.statusCode ?? 0;
          if (status === 200 && json !== undefined) return resolve({ ok: true, text, json });
          const error = json as { code?: unknown; message?: unknown } | undefined;
          resolve({
            ok: false,
            httpStatus: status,
            code: typeof error?.code === "string" ? error.code : fallbackCode(status),
            message: typeof error?.message === "string" ? error.message : fallbackMessage(status),
          });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: "ETIMEDOUT" })));
    req.on("error", reject);
    req.end(payload);
  });
}

/** The code of an answer without a Connect error body: a 200 that is not JSON is the server's fault. */
function fallbackCode(status: number): string {
  return status === 200 ? "internal" : codeFromHttpStatus(status);
}

function fallbackMessage(status: number): string {
  return status === 200 ? "the response is not JSON" : `HTTP ${status}`;
}
