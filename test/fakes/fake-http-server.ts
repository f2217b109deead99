import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";

/** A request as the fakes see it: the body read whole. */
export interface FakeRequest {
  method: string;
  url: URL;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

/** A reply from a fake's handler. */
export interface FakeReply {
  status: number;
  body: string | Buffer;
  headers?: Record<string, string>;
}

/**
 * A fault the fake injects instead of its real answer, to test how the service maps
 * upstream failures: a status with a body, a garbage body, a delay, or a hang (the
 * request is read and never answered, as by a cloud that accepts and stalls; it
 * stays unanswered even after the fault is cleared).
 */
export type Fault = { status: number; body?: string; contentType?: string } | { delayMs: number } | { garbage: true } | { hang: true };

/** A running fake cloud endpoint. */
export interface FakeServer {
  /** The base URL, e.g. "http://127.0.0.1:40123". */
  readonly url: string;
  /** Every request received, oldest first. */
  readonly requests: FakeRequest[];
  /** When set, every request gets this fault instead of the real answer. */
  fault: Fault | undefined;
  close(): Promise<void>;
}

/** Starts a fake on a free loopback port (HTTPS with `tls`); `handle` verifies each request and answers it. */
export async function startFakeServer(
  handle: (req: FakeRequest) => FakeReply | Promise<FakeReply>,
  tls?: { cert: Buffer; key: Buffer },
): Promise<FakeServer> {
  const requests: FakeRequest[] = [];
  const fake = { requests, fault: undefined as Fault | undefined, url: "", close: async () => {} };
  const listener = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : v]));
    const request: FakeRequest = {
      method: req.method ?? "GET",
      url: new URL(req.url ?? "/", fake.url),
      headers,
      body: Buffer.concat(chunks),
    };
    requests.push(request);
    const fault = fake.fault;
    let reply: FakeReply;
    if (fault && "hang" in fault) return;
    if (fault && "delayMs" in fault) {
      await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      if (res.destroyed) return;
      reply = await handle(request);
    } else if (fault && "garbage" in fault) {
      reply = { status: 200, body: "<<<\u0000 not what the API promises \u00ff>>>", headers: { "content-type": "application/json" } };
    } else if (fault) {
      reply = { status: fault.status, body: fault.body ?? "", headers: { "content-type": fault.contentType ?? "text/plain" } };
    } else {
      try {
        reply = await handle(request);
      } catch (err) {
        // A bug in the fake itself: say so loudly rather than let it pass as an upstream fault.
        process.stderr.write(`fake server handler failed: ${String(err)}\n`);
        reply = { status: 599, body: `fake server bug: ${String(err)}` };
      }
    }
    res.writeHead(reply.status, reply.headers ?? {}).end(reply.body);
  };
  const server = tls ? createHttpsServer(tls, listener) : createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fake.url = `${tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}
