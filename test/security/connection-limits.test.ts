import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { connect as tlsConnect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { stringify } from "yaml";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";
import { cliPath, repoRoot } from "../support/paths.js";
import { liveObjects, rssMb } from "../support/process-memory.js";
import { silentConnection } from "../support/silent-connection.js";
import { startTestService } from "../support/running-service.js";
import { RawHttp2Connection, frameTypes } from "../support/raw-http2.js";
import { createSecureFixture, secureRawConfig, type SecureFixture } from "../support/secure-fixture.js";
import { testConfig } from "../support/test-config.js";

/** How many silent connections this machine's open-file limit allows, both ends in one test, with room to spare. */
function affordableConnections(wanted: number): number {
  const limit = Number(execFileSync("sh", ["-c", "ulimit -n"]).toString().trim());
  return Number.isFinite(limit) ? Math.min(wanted, Math.floor((limit - 500) / 2)) : wanted;
}

describe("connections: bounded handshakes and a cap on both listeners", () => {
  let f: SecureFixture;
  before(async () => {
    f = await createSecureFixture();
  });

  describe("a wave of silent connections on the gRPC TLS port of a served process", () => {
    let child: ChildProcess;
    let snapshots: string;
    let addresses: { grpc: string; http: string; metrics: string };
    before(async () => {
      const dir = await mkdtemp(join(tmpdir(), "cts-conn-"));
      const config = join(dir, "config.yaml");
      await writeFile(
        config,
        stringify({
          ...secureRawConfig(f, { mtls: false, limits: { handshakeTimeoutSeconds: 1 } }),
          listen: { grpc: "127.0.0.1:0", http: "127.0.0.1:0", metrics: "127.0.0.1:0" },
          logging: { level: "info" },
        }),
      );
      snapshots = await mkdtemp(join(tmpdir(), "cts-heap-"));
      child = spawn(
        process.execPath,
        ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${snapshots}`, cliPath, "serve", "--config", config],
        {
          cwd: repoRoot,
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      addresses = await new Promise((resolve, reject) => {
        let out = "";
        child.stdout!.on("data", (d: Buffer) => {
          out += d;
          const line = out.split("\n").find((l) => l.includes('"serving"'));
          if (line) resolve(JSON.parse(line) as { grpc: string; http: string; metrics: string });
        });
        child.once("exit", (code) => reject(new Error(`the service exited with ${code}: ${out}`)));
      });
    });
    after(() => child.kill("SIGKILL"));

    it("closes them within the handshake timeout, keeps answering health, and keeps none of them", { timeout: 90_000 }, async (t) => {
      const health = createClient(
        Health,
        createGrpcTransport({ baseUrl: `https://${addresses.grpc}`, nodeOptions: { ca: f.pki.ca.cert } }),
      );
      const check = async () => {
        const started = performance.now();
        const { status } = await health.check({ service: "" }, { timeoutMs: 2_000 });
        assert.equal(status, HealthCheckResponse_ServingStatus.SERVING);
        return performance.now() - started;
      };
      await check();
      const baseline = rssMb(child.pid!);
      const count = affordableConnections(3_000);
      // In batches smaller than the listen backlog: a connection the kernel completes but the server never
      // accepts would look open to this client without ever reaching the service.
      const connections: Awaited<ReturnType<typeof silentConnection>>[] = [];
      while (connections.length < count) {
        connections.push(
          ...(await Promise.all(Array.from({ length: Math.min(250, count - connections.length) }, () => silentConnection(addresses.grpc)))),
        );
      }
      const healthMs = await check();
      const lifetimes = await Promise.all(connections.map(async (c) => (await c.closed) - c.connectedAt));
      const slowest = Math.max(...lifetimes);
      const peak = rssMb(child.pid!);
      // What the service still holds once the wave is closed, after a full collection: on every Node line, a
      // closed connection must leave no socket behind. (Resident memory says little about that: no line's
      // allocator hands freed pages back to the system within seconds, and how far V8 grows its young
      // generation under this churn differs between lines, 35 to 60 MB for this wave.)
      // The client saw every close; the server may still be finishing some (a socket's handle closes in a
      // later turn). Wait, within a deadline, until its open TLS socket handles are back to the health
      // client's one, as prom-client's nodejs_active_handles reports them; then count what is still referenced.
      const openTlsHandles = async () => {
        const text = await (await fetch(`http://${addresses.metrics}/metrics`)).text();
        return Number(/^nodejs_active_handles\{type="TLSSocket"\} (\d+)$/m.exec(text)?.[1] ?? 0);
      };
      const handlesDeadline = Date.now() + 10_000;
      while ((await openTlsHandles()) > 1) {
        assert.ok(Date.now() < handlesDeadline, `${await openTlsHandles()} TLS socket handles still open 10 s after the wave closed`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const live = await liveObjects(child.pid!, snapshots, ["TLSSocket", "Socket"]);
      t.diagnostic(
        `${count} silent connections: RSS ${baseline.toFixed(0)} → ${peak.toFixed(0)} MB; then ${[...live].map(([c, n]) => `${n} ${c}`).join(", ")} objects live; longest life ${Math.round(slowest)} ms; health ${Math.round(healthMs)} ms`,
      );
      assert.ok(healthMs < 1_000, `health took ${Math.round(healthMs)} ms with ${count} silent connections open`);
      assert.ok(slowest < 2_500, `one of ${count} silent connections lived ${Math.round(slowest)} ms (timeout 1 s)`);
      // What remains is the process's own: standard output and error, the health client's connection.
      for (const [maker, n] of live) assert.ok(n < 10, `${n} ${maker} objects remain after ${count} connections closed`);
      // The memory a wave may cost at its peak: the budget issue 18 sets for any unauthenticated attack.
      assert.ok(peak - baseline < 100, `RSS ${baseline.toFixed(0)} MB before, ${peak.toFixed(0)} MB with ${count} silent connections`);
      await check();
    });
  });

  it("at limits.maxConnections, a new connection closes the oldest stalled one, on both listeners", { timeout: 30_000 }, async () => {
    const svc = await startTestService(
      testConfig({ ...secureRawConfig(f, { mtls: false, limits: { maxConnections: 3, handshakeTimeoutSeconds: 5 } }) }),
    );
    try {
      for (const address of [svc.server.grpcAddress, svc.server.httpAddress]) {
        const held = [];
        for (let i = 0; i < 3; i++) held.push(await silentConnection(address));
        const newcomer = await silentConnection(address);
        await held[0]!.closed;
        const stillOpen = await Promise.race([
          newcomer.closed.then(() => false),
          new Promise((resolve) => setTimeout(() => resolve(true), 300)),
        ]);
        assert.ok(stillOpen, `${address} keeps the newcomer`);
        assert.ok(
          held.slice(1).every((h) => !h.socket.destroyed),
          "and only the oldest went",
        );
        for (const h of [...held, newcomer]) h.socket.destroy();
      }
    } finally {
      await svc.close();
    }
  });

  it("closes a newcomer at once only when every connection held has a call in flight, on both listeners", { timeout: 30_000 }, async () => {
    const svc = await startTestService(
      testConfig({ ...secureRawConfig(f, { mtls: false, limits: { maxConnections: 3, firstMessageTimeoutSeconds: 20 } }) }),
    );
    const { ca } = f.pki;
    /** A connection with a call in flight: gRPC headers without the message, or an HTTP request without its whole body. */
    const busy: Record<string, () => Promise<{ close(): void }>> = {
      [svc.server.grpcAddress]: async () => {
        const raw = await RawHttp2Connection.open(svc.server.grpcAddress, ca.cert);
        raw.request(1, "/clustertoken.v1.ClusterTokenService/GenerateToken");
        await raw.waitFor((frame) => frame.type === frameTypes.SETTINGS && (frame.flags & 0x1) === 1);
        return raw;
      },
      [svc.server.httpAddress]: async () => {
        const colon = svc.server.httpAddress.lastIndexOf(":");
        const socket = tlsConnect({
          host: "127.0.0.1",
          port: Number(svc.server.httpAddress.slice(colon + 1)),
          ca: ca.cert,
          servername: "localhost",
        });
        socket.on("error", () => {});
        await new Promise((resolve) => socket.once("secureConnect", resolve));
        socket.write(
          "POST /clustertoken.v1.ClusterTokenService/GenerateToken HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
        );
        return { close: () => socket.destroy() };
      },
    };
    try {
      for (const [address, open] of Object.entries(busy)) {
        const calls = [await open(), await open(), await open()];
        await new Promise((resolve) => setTimeout(resolve, 200));
        const refused = await silentConnection(address);
        const closedMs = await Promise.race([
          refused.closed.then((at) => at - refused.connectedAt),
          new Promise<number>((resolve) => setTimeout(() => resolve(Infinity), 1_000)),
        ]);
        assert.ok(closedMs < 1_000, `${address} closes the newcomer at once`);
        calls[0]!.close();
        await new Promise((resolve) => setTimeout(resolve, 200));
        const again = await silentConnection(address);
        const stillOpen = await Promise.race([
          again.closed.then(() => false),
          new Promise((resolve) => setTimeout(() => resolve(true), 300)),
        ]);
        assert.ok(stillOpen, `${address} accepts connections again once a call has ended`);
        again.socket.destroy();
        for (const call of calls) call.close();
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      await svc.close();
    }
  });

  it("shuts down within its grace period even with handshakes still open on both listeners", { timeout: 20_000 }, async () => {
    const svc = await startTestService(testConfig(secureRawConfig(f, { mtls: false, limits: { handshakeTimeoutSeconds: 10 } })));
    await Promise.all([silentConnection(svc.server.grpcAddress), silentConnection(svc.server.httpAddress)]);
    const started = performance.now();
    await svc.server.close(300);
    const ms = performance.now() - started;
    assert.ok(ms < 1_500, `close took ${Math.round(ms)} ms with a 300 ms grace period and a 10 s handshake timeout`);
  });
});
