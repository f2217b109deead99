import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { describe, it } from "node:test";
import { createLogger } from "../../src/logging/logger.js";
import { providers } from "../../src/providers.js";
import { startServer } from "../../src/server.js";
import { freePort } from "../support/free-port.js";
import { LogCapture } from "../support/log-capture.js";
import { rawTestConfig, testConfig } from "../support/test-config.js";

/** Binds 127.0.0.1:`port`, or rejects when something holds it. */
function bind(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe("listenOn: every listener or none", () => {
  it("closes the listeners it bound when a later one cannot bind, and says which address failed", async () => {
    const [grpc, http, metrics] = await Promise.all([freePort(), freePort(), freePort()]);
    const held = await bind(await freePort());
    const heldPort = (held.address() as { port: number }).port;
    const raw = rawTestConfig() as { listen: Record<string, string>; audit: { file: string } };
    raw.listen = {
      grpc: `127.0.0.1:${grpc}`,
      http: `127.0.0.1:${http}`,
      metrics: `127.0.0.1:${metrics}`,
      health: `127.0.0.1:${heldPort}`,
    };
    const logs = new LogCapture();
    try {
      await assert.rejects(startServer(testConfig(raw), { logger: createLogger({ destination: logs, providers }) }), {
        message: new RegExp(`^cannot listen for gRPC on 127\\.0\\.0\\.1:${heldPort}: listen EADDRINUSE`),
      });
      for (const port of [grpc, http, metrics]) await close(await bind(port));
      assert.ok(!logs.records().some((r) => r.msg === "serving"), "never said it was serving");
      // A listener or sink left open would also keep this file's process alive past its last test.
      assert.equal(readFileSync(raw.audit.file, "utf8"), "", "the audit file was opened, and nothing was written to it");
    } finally {
      await close(held);
    }
  });
});
