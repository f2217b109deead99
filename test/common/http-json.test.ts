import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { before, describe, it } from "node:test";
import { HttpReadError, requestJson } from "../../src/common/http-json.js";
import { startOversizedServer } from "../support/oversized-server.js";
import { createTestPki, type IssuedCert, type TestPki } from "../support/test-pki.js";

const MiB = 1024 * 1024;

/** A local server answering with `handle`. */
async function serve(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
  tls?: IssuedCert,
): Promise<{ url: string; server: Server }> {
  const server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handle) : createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `${tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function readFailure(promise: Promise<unknown>): Promise<HttpReadError> {
  const err = await promise.then(
    () => assert.fail("expected the request to fail"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof HttpReadError, `an HttpReadError, not ${String(err)}`);
  return err;
}

describe("requestJson, the bounded reader", () => {
  let pki: TestPki;
  let serving: IssuedCert;
  before(async () => {
    pki = await createTestPki();
    serving = await pki.issue("upstream", { cn: "upstream", sans: ["IP:127.0.0.1"], usage: "server" });
  });

  it("stops reading a 50 MB body at the cap: the server sends little of it, and memory stays flat", async () => {
    const upstream = await startOversizedServer(50 * MiB);
    try {
      const rssBefore = process.memoryUsage().rss;
      const err = await readFailure(requestJson({ url: new URL(upstream.url), timeoutMs: 30_000, maxBytes: MiB }));
      assert.deepEqual([err.kind, err.code], ["too-large", "ERESPONSETOOLARGE"]);
      const grownMiB = (process.memoryUsage().rss - rssBefore) / MiB;
      assert.ok(grownMiB < 20, `RSS grew by ${grownMiB.toFixed(1)} MiB reading a 50 MiB answer capped at 1 MiB`);
      const sentMiB = (await upstream.lastSent()) / MiB;
      assert.ok(sentMiB < 10, `the server got ${sentMiB.toFixed(1)} MiB out before the connection closed`);
    } finally {
      await upstream.close();
    }
  });

  it("refuses a declared content-length over the cap without waiting for the body", async () => {
    // Headers only: a reader that waited for the body would wait until its deadline.
    const { url, server } = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": String(50 * MiB) });
      res.flushHeaders();
    });
    try {
      const err = await readFailure(requestJson({ url: new URL(url), timeoutMs: 20_000, maxBytes: MiB }));
      assert.equal(err.kind, "too-large");
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("answers with the status, the text and the JSON, or undefined JSON for a body that is not JSON", async () => {
    const seen: Record<string, string | undefined>[] = [];
    const { url, server } = await serve((req, res) => {
      seen.push({ method: req.method, length: req.headers["content-length"], encoding: req.headers["transfer-encoding"] });
      if (req.url === "/json") res.writeHead(404, { "content-type": "application/json" }).end('{"error":"no"}');
      else res.writeHead(200).end("<html>not json</html>");
    });
    try {
      const json = await requestJson({ url: new URL(`${url}/json`), method: "POST", timeoutMs: 10_000, maxBytes: MiB });
      assert.deepEqual([json.status, json.json], [404, { error: "no" }]);
      const html = await requestJson({ url: new URL(`${url}/html`), timeoutMs: 10_000, maxBytes: MiB });
      assert.deepEqual([html.status, html.text, html.json], [200, "<html>not json</html>", undefined]);
      assert.deepEqual(seen[0], { method: "POST", length: "0", encoding: undefined }, "a POST without a body says so");
    } finally {
      server.close();
    }
  });

  it("ends the whole exchange at its deadline, even when the server never answers", async () => {
    const { url, server } = await serve(() => {});
    try {
      const err = await readFailure(requestJson({ url: new URL(url), timeoutMs: 50, maxBytes: MiB }));
      assert.deepEqual([err.kind, err.code], ["timeout", "ETIMEDOUT"]);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("gives up at once when the caller's signal aborts, and never starts for a signal already aborted", async () => {
    let arrived: () => void = () => {};
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    const { url, server } = await serve(() => arrived());
    try {
      const caller = new AbortController();
      const pending = readFailure(requestJson({ url: new URL(url), timeoutMs: 60_000, signal: caller.signal, maxBytes: MiB }));
      await reached;
      caller.abort();
      assert.equal((await pending).kind, "aborted");
      const already = await readFailure(requestJson({ url: new URL(url), timeoutMs: 60_000, signal: caller.signal, maxBytes: MiB }));
      assert.equal(already.kind, "aborted");
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("tells an untrusted certificate from an unreachable server, and trusts a CA it is given", async () => {
    const { url, server } = await serve((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("{}"), serving);
    try {
      const untrusted = await readFailure(requestJson({ url: new URL(url), timeoutMs: 10_000, maxBytes: MiB }));
      assert.equal(untrusted.kind, "tls-untrusted");
      assert.equal(untrusted.code, "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
      const trusted = await requestJson({ url: new URL(url), tls: { ca: pki.ca.cert }, timeoutMs: 10_000, maxBytes: MiB });
      assert.deepEqual(trusted.json, {});
      const named = await readFailure(
        requestJson({ url: new URL(url.replace("127.0.0.1", "localhost")), tls: { ca: pki.ca.cert }, timeoutMs: 10_000, maxBytes: MiB }),
      );
      assert.deepEqual([named.kind, named.code], ["tls-untrusted", "ERR_TLS_CERT_ALTNAME_INVALID"], "a name the certificate does not hold");
    } finally {
      server.close();
    }
    const closed = await serve(() => {});
    closed.server.close();
    const refused = await readFailure(requestJson({ url: new URL(closed.url), timeoutMs: 10_000, maxBytes: MiB }));
    assert.deepEqual([refused.kind, refused.code], ["unreachable", "ECONNREFUSED"]);
  });
});
