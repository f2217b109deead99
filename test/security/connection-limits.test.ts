import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { stringify } from "yaml";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";
import { cliPath, repoRoot } from "../support/paths.js";
import { startTestService } from "../support/running-service.js";
import { createSecureFixture, secureRawConfig, type SecureFixture } from "../support/secure-fixture.js";
import { testConfig } from "../support/test-config.js";

/** Opens a TCP connection that never sends a byte; resolves once connected, with when it was closed by the server. */
function silentConnection(address: string): Promise<{ socket: Socket; connectedAt: number; closed: Promise<number> }> {
  const colon = address.lastIndexOf(":");
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)) });
    const closed = new Promise<number>((done) => socket.once("close", () => done(performance.now())));
    socket.on("error", () => {});
    socket.once("connect", () => resolve({ socket, connectedAt: performance.now(), closed }));
    socket.once("close", () => reject(new Error("closed before connecting")));
  });
}

function rssMb(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
  return kb / 1024;
}

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
    let addresses: { grpc: string; http: string };
    before(async () => {
      const dir = await mkdtemp(join(tmpdir(), "cts-conn-"));
      const config = join(dir, "config.yaml");
      await writeFile(
        config,
        stringify({ ...secureRawConfig(f, { mtls: false, limits: { handshakeTimeoutSeconds: 1 } }), logging: { level: "info" } }),
      );
      child = spawn(process.execPath, [cliPath, "serve", "--config", config], { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] });
      addresses = await new Promise((resolve, reject) => {
        let out = "";
        child.stdout!.on("data", (d: Buffer) => {
          out += d;
          const line = out.split("\n").find((l) => l.includes('"serving"'));
          if (line) resolve(JSON.parse(line) as { grpc: string; http: string });
        });
        child.once("exit", (code) => reject(new Error(`the service exited with ${code}: ${out}`)));
      });
    });
    after(() => child.kill("SIGKILL"));

    it("closes them within the handshake timeout, keeps answering health, and gives the memory back", { timeout: 60_000 }, async (t) => {
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
      await new Promise((resolve) => setTimeout(resolve, 500));
      const afterwards = rssMb(child.pid!);
      t.diagnostic(
        `${count} silent connections: RSS ${baseline.toFixed(0)} → ${peak.toFixed(0)} → ${afterwards.toFixed(0)} MB; longest life ${Math.round(slowest)} ms; health ${Math.round(healthMs)} ms`,
      );
      assert.ok(healthMs < 1_000, `health took ${Math.round(healthMs)} ms with ${count} silent connections open`);
      assert.ok(slowest < 2_500, `one of ${count} silent connections lived ${Math.round(slowest)} ms (timeout 1 s)`);
      assert.ok(
        afterwards - baseline < 60,
        `RSS ${baseline.toFixed(0)} MB before, ${peak.toFixed(0)} MB at the peak, ${afterwards.toFixed(0)} MB after ${count} silent connections`,
      );
      await check();
    });
  });

  it("refuses connections past limits.maxConnections on both listeners, and serves again once they go", { timeout: 30_000 }, async () => {
    const svc = await startTestService(
      testConfig({ ...secureRawConfig(f, { mtls: false, limits: { maxConnections: 3, handshakeTimeoutSeconds: 5 } }) }),
    );
    try {
      for (const address of [svc.server.grpcAddress, svc.server.httpAddress]) {
        const held = await Promise.all([0, 1, 2].map(() => silentConnection(address)));
        const extra = await silentConnection(address).catch(() => undefined);
        if (extra) {
          const closedMs = (await extra.closed) - performance.now();
          assert.ok(closedMs < 1_000, "the connection over the cap is closed at once");
        }
        for (const h of held) h.socket.destroy();
        await Promise.all(held.map((h) => h.closed));
        const again = await silentConnection(address);
        const stillOpen = await Promise.race([
          again.closed.then(() => false),
          new Promise((resolve) => setTimeout(() => resolve(true), 300)),
        ]);
        assert.ok(stillOpen, `${address} accepts connections again under the cap`);
        again.socket.destroy();
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
