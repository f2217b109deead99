import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { type Clock, systemClock } from "../../src/common/clock.js";

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
 * upstream failures: a status with a body, a garbage body, a hold (the request is
 * answered, for real, only when the test calls `release()`: a slow cloud whose
 * slowness the test controls), a hang (the request is read and never answered, as
 * by a cloud that accepts and stalls; it stays unanswered even after the fault is
 * cleared), or a delay of the real answer by wall-clock time. A test that needs a
 * call in flight holds it and awaits `received()`, rather than delay it and sleep.
 */
export type Fault =
  | { status: number; body?: string; contentType?: string }
  | { garbage: true }
  | { hold: true }
  | { hang: true }
  | { delayMs: number };

/**
 * The reply of a status or garbage fault: what the server sends for its own
 * `fault`, and what a fake's handler sends when it injects one for a single request
 * (a listing's page N).
 */
export function faultReply(fault: Extract<Fault, { status: number } | { garbage: true }>): FakeReply {
  if ("garbage" in fault)
    return { status: 200, body: "<<<\u0000 not what the API promises \u00ff>>>", headers: { "content-type": "application/json" } };
  return { status: fault.status, body: fault.body ?? "", headers: { "content-type": fault.contentType ?? "text/plain" } };
}

/** A running fake cloud endpoint. */
export interface FakeServer {
  /** The base URL, e.g. "http://127.0.0.1:40123". */
  readonly url: string;
  /** Every request received, oldest first. */
  readonly requests: FakeRequest[];
  /** When set, every request gets this fault instead of the real answer. */
  fault: Fault | undefined;
  /**
   * Resolves once `count` requests have arrived in all (counting those before the
   * call), so that a test knows a call is in flight instead of sleeping. Rejects
   * after `timeoutMs`, naming how many arrived, rather than hang the test.
   */
  received(count: number, timeoutMs?: number): Promise<void>;
  /** Answers every request held by a `{ hold: true }` fault, with the real answer, and returns how many there were. */
  release(): Promise<number>;
  close(): Promise<void>;
}

/** Options of {@link startFakeServer}. */
export interface FakeServerOptions {
  /** Serves HTTPS with this certificate and key. */
  tls?: { cert: Buffer; key: Buffer };
  /**
   * The fake cloud's clock, which its verifiers check signatures and expiries
   * against and its `Date` header tells (SDKs correct their own clock by it, as from
   * a real cloud). The wall clock when absent.
   */
  clock?: Clock;
}

/** Starts a fake on a free loopback port; `handle` verifies each request and answers it. */
export async function startFakeServer(
  handle: (req: FakeRequest) => FakeReply | Promise<FakeReply>,
  { tls, clock = systemClock }: FakeServerOptions = {},
): Promise<FakeServer> {
  let url = "";
  const requests: FakeRequest[] = [];
  const held: (() => Promise<void>)[] = [];
  const arrivals = new Set<() => void>();
  const answer = async (request: FakeRequest, res: ServerResponse) => {
    let reply: FakeReply;
    try {
      reply = await handle(request);
    } catch (err) {
      // A bug in the fake itself: say so loudly rather than let it pass as an upstream fault.
      process.stderr.write(`fake server handler failed: ${String(err)}\n`);
      reply = { status: 599, body: `fake server bug: ${String(err)}` };
    }
    send(res, reply);
  };
  const send = (res: ServerResponse, reply: FakeReply) => {
    // The caller may have given up on a held request; there is nobody left to answer.
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(reply.status, { date: new Date(clock.now()).toUTCString(), ...reply.headers }).end(reply.body);
  };
  const listener = async (req: IncomingMessage, res: ServerResponse) => {
    res.sendDate = false; // the fake clock's Date header, not the wall clock's
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : v]));
    const request: FakeRequest = {
      method: req.method ?? "GET",
      url: new URL(req.url ?? "/", url),
      headers,
      body: Buffer.concat(chunks),
    };
    requests.push(request);
    for (const arrived of arrivals) arrived();
    const fault = fake.fault;
    if (fault && "hang" in fault) return;
    if (fault && "hold" in fault) held.push(() => answer(request, res));
    else if (fault && "delayMs" in fault) setTimeout(() => void answer(request, res), fault.delayMs);
    else if (fault) send(res, faultReply(fault));
    else await answer(request, res);
  };
  const server = tls ? createHttpsServer(tls, listener) : createServer(listener);
  const fake: FakeServer = {
    get url() {
      return url;
    },
    requests,
    fault: undefined,
    received(count, timeoutMs = 10_000) {
      if (requests.length >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const arrived = () => {
          if (requests.length < count) return;
          settle();
          resolve();
        };
        const timer = setTimeout(() => {
          settle();
          reject(new Error(`the fake at ${url} received ${requests.length} of ${count} requests within ${timeoutMs} ms`));
        }, timeoutMs);
        const settle = () => {
          clearTimeout(timer);
          arrivals.delete(arrived);
        };
        arrivals.add(arrived);
      });
    },
    async release() {
      const waiting = held.splice(0);
      await Promise.all(waiting.map((answerHeld) => answerHeld()));
      return waiting.length;
    },
    close: async () => {},
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `${tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}
