import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** An upstream that answers every request with a body of `bytes`, as a hostile or broken API might. */
export interface OversizedServer {
  readonly url: string;
  /** The size of the next answers' bodies; change it between requests. */
  bytes: number;
  /** Resolves with how many body bytes the last answer got out before its connection closed. */
  lastSent(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Streams `bytes` of filler after 200 headers (no content-length, so the reader
 * cannot refuse it up front), one reused 64 KiB chunk at a time and honouring
 * backpressure, so the server itself holds no more than a chunk and what it sent is
 * what the client's socket took.
 */
function streamFiller(res: ServerResponse, bytes: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let written = 0;
  const sent = new Promise<number>((resolve) => res.on("close", () => resolve(written)));
  const pump = () => {
    while (written < bytes && !res.destroyed) {
      written += chunk.byteLength;
      if (!res.write(chunk)) {
        res.once("drain", pump);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  res.writeHead(200, { "content-type": "application/json" });
  pump();
  return sent;
}

/** Starts an {@link OversizedServer} on a free loopback port. */
export async function startOversizedServer(bytes: number): Promise<OversizedServer> {
  let sent: Promise<number> = Promise.resolve(0);
  const state = { bytes };
  const server: Server = createServer((_req, res) => {
    sent = streamFiller(res, state.bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get bytes() {
      return state.bytes;
    },
    set bytes(value: number) {
      state.bytes = value;
    },
    lastSent: () => sent,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
