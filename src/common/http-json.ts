import { type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { isTlsVerificationFailure } from "./tls-verification.js";

/** One HTTP exchange whose answer is expected to be JSON. */
export interface HttpJsonRequest {
  readonly url: URL;
  /** GET when absent. */
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** CAs trusted besides Node's own (a TLS-inspecting proxy, a test CA), and a client certificate for mTLS. */
  readonly tls?: { readonly ca?: Buffer | undefined; readonly cert?: Buffer | undefined; readonly key?: Buffer | undefined };
  /** The one deadline of the whole exchange: name lookup, connection, TLS, request, headers and body. */
  readonly timeoutMs: number;
  /** The caller's signal: when it aborts, the exchange is abandoned at once. */
  readonly signal?: AbortSignal | undefined;
  /** The largest body read; a larger one is not read further (its connection is closed) and fails as `too-large`. */
  readonly maxBytes: number;
}

/** An answer, whatever its status: the caller decides what a status means. */
export interface HttpJsonAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body as UTF-8; empty when it is not valid UTF-8. */
  readonly text: string;
  /** The body parsed as JSON; undefined when it is not JSON. */
  readonly json: unknown;
}

/**
 * Why no answer came: the caller gave up (`aborted`), the deadline passed
 * (`timeout`), the server's certificate failed verification (`tls-untrusted`), no
 * connection or a broken one (`unreachable`), or a body over the cap (`too-large`).
 */
export type HttpReadFailure = "aborted" | "timeout" | "tls-untrusted" | "unreachable" | "too-large";

/**
 * The failure of an exchange. `code` is the socket's own (ECONNREFUSED,
 * UNABLE_TO_VERIFY_LEAF_SIGNATURE, …) when there is one, else ETIMEDOUT, ABORT_ERR
 * or ERESPONSETOOLARGE, so that a command line can explain it as Node would.
 */
export class HttpReadError extends Error {
  override readonly name = "HttpReadError";

  constructor(
    readonly kind: HttpReadFailure,
    message: string,
    readonly code: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/**
 * Makes one HTTP(S) request and reads its answer, bounded in every way a server
 * could hold it: one deadline for the whole exchange, the caller's signal, and a
 * size cap enforced while reading (a declared `content-length` over the cap is
 * refused before the first byte, and a body that grows past it is cut off there),
 * so a 50 MB answer costs at most the cap in memory. Each request has its own
 * connection (no pool), as every caller here makes rare calls whose results are
 * cached. Rejects only with {@link HttpReadError}.
 */
export function requestJson(exchange: HttpJsonRequest): Promise<HttpJsonAnswer> {
  const { url, method = "GET", headers = {}, body, tls = {}, timeoutMs, signal, maxBytes } = exchange;
  if (signal?.aborted) return Promise.reject(abortedError(signal));
  return new Promise((resolve, reject) => {
    let settled = false;
    let request: ClientRequest | undefined;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      outcome();
    };
    const fail = (error: HttpReadError) =>
      settle(() => {
        reject(error);
        request?.destroy();
      });
    const onAbort = () => fail(abortedError(signal));
    const timer = setTimeout(() => fail(new HttpReadError("timeout", `no complete answer within ${timeoutMs} ms`, "ETIMEDOUT")), timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    const sent = body === undefined ? undefined : Buffer.from(body);
    // A POST without a body still says so: some APIs answer 411 to a chunked empty body.
    const length = sent !== undefined || method !== "GET" ? { "content-length": String(sent?.byteLength ?? 0) } : {};
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    request = send(
      url,
      {
        method,
        headers: { ...length, ...headers },
        agent: false,
        ...(tls.ca ? { ca: tls.ca } : {}),
        ...(tls.cert ? { cert: tls.cert } : {}),
        ...(tls.key ? { key: tls.key } : {}),
      },
      (response) => readBody(response, maxBytes, { fail, done: (answer) => settle(() => resolve(answer)) }),
    );
    request.on("error", (err) => fail(transportFailure(err)));
    request.end(sent);
  });
}

/** Reads `response` up to `maxBytes`, then hands the answer to `done`, or a failure to `fail`. */
function readBody(
  response: IncomingMessage,
  maxBytes: number,
  { fail, done }: { fail: (error: HttpReadError) => void; done: (answer: HttpJsonAnswer) => void },
): void {
  const tooLarge = () => {
    fail(new HttpReadError("too-large", `the answer is larger than ${maxBytes} bytes`, "ERESPONSETOOLARGE"));
    response.destroy();
  };
  if (Number(response.headers["content-length"]) > maxBytes) {
    tooLarge();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  response.on("data", (chunk: Buffer) => {
    size += chunk.byteLength;
    if (size > maxBytes) tooLarge();
    else chunks.push(chunk);
  });
  response.on("end", () => done(answerOf(response, Buffer.concat(chunks))));
  response.on("error", (err) => fail(transportFailure(err)));
  response.on("close", () => {
    if (!response.complete) fail(transportFailure(new Error("the connection closed before the answer was complete")));
  });
}

function answerOf(response: IncomingMessage, bytes: Buffer): HttpJsonAnswer {
  let text = "";
  let json: unknown;
  try {
    text = utf8.decode(bytes);
    json = JSON.parse(text) as unknown;
  } catch {
    json = undefined;
  }
  return { status: response.statusCode ?? 0, headers: response.headers, text, json };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function abortedError(signal: AbortSignal | undefined): HttpReadError {
  return new HttpReadError("aborted", "the caller gave up on the request", "ABORT_ERR", signal?.reason);
}

/** A socket or TLS failure: untrusted when the certificate failed verification, else unreachable. */
function transportFailure(err: Error & { code?: unknown }): HttpReadError {
  const code = typeof err.code === "string" ? err.code : "ECONNRESET";
  return isTlsVerificationFailure(err)
    ? new HttpReadError("tls-untrusted", err.message, code, err)
    : new HttpReadError("unreachable", err.message, code, err);
}
