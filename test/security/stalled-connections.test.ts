import assert from "node:assert/strict";
import { get } from "node:http";
import { request } from "node:https";
import { connect as netConnect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { TLSSocket, connect as tlsConnect } from "node:tls";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";
import { createSecureFixture, secureRawConfig, type SecureFixture } from "../support/secure-fixture.js";
import { type ServeProcess, startServeProcess } from "../support/serve-process.js";
import { testAwsEnv } from "../support/test-config.js";

function hostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

/** A connection that has sent `bytes` and then nothing; `closed` resolves when the server closes it. */
interface Stalled {
  socket: Socket;
  closed: Promise<void>;
  isOpen(): boolean;
}

function stall(socket: Socket, bytes: string | undefined): Promise<Stalled> {
  return new Promise((resolve, reject) => {
    let open = true;
    const closed = new Promise<void>((done) =>
      socket.once("close", () => {
        open = false;
        done();
      }),
    );
    socket.on("error", () => {});
    socket.once(socket instanceof TLSSocket ? "secureConnect" : "connect", () => {
      if (bytes !== undefined) socket.write(bytes);
      resolve({ socket, closed, isOpen: () => open });
    });
    socket.once("close", () => reject(new Error("closed before connecting")));
  });
}

/** Opens `count` stalled connections, in batches smaller than the listen backlog. */
async function stallMany(count: number, open: () => Promise<Stalled>): Promise<Stalled[]> {
  const all: Stalled[] = [];
  while (all.length < count) all.push(...(await Promise.all(Array.from({ length: Math.min(100, count - all.length) }, open))));
  return all;
}

/** GET `url` with a deadline, as the kubelet's httpGet probe does: the status, or a rejection past `timeoutMs`. */
function probeGet(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

describe("stalled connections cannot starve a listener (issue 18: health port held, slowloris)", () => {
  let f: SecureFixture;
  let svc: ServeProcess;
  let addresses: { grpc: string; http: string; health: string; metrics: string };
  before(async () => {
    f = await createSecureFixture();
    const raw = secureRawConfig(f, { mtls: false, limits: { handshakeTimeoutSeconds: 3, maxConnections: 256 } }) as { listen: object };
    svc = await startServeProcess(
      { ...raw, listen: { ...raw.listen, health: "127.0.0.1:0", metrics: "127.0.0.1:0" }, logging: { level: "info" } },
      { env: testAwsEnv },
    );
    const serving = await svc.waitForLine((l) => l.msg === "serving");
    addresses = { grpc: svc.grpc, http: svc.http, health: String(serving.health), metrics: String(serving.metrics) };
  });
  after(() => svc.child.kill("SIGKILL"));

  /** The kubelet's gRPC probe: a new plaintext connection, Health/Check, a 1 s timeout (timeoutSeconds: 1). */
  async function kubeletProbe(): Promise<void> {
    const health = createClient(Health, createGrpcTransport({ baseUrl: `http://${addresses.health}` }));
    assert.equal((await health.check({}, { timeoutMs: 1_000 })).status, HealthCheckResponse_ServingStatus.SERVING);
  }

  it("answers the kubelet within 1 s while 64 connections that sent one byte hold the health port, and closes them at the deadline", async () => {
    const started = performance.now();
    const stalled = await stallMany(64, () => stall(netConnect(hostPort(addresses.health)), "P"));
    for (let i = 0; i < 5; i++) await kubeletProbe();
    await Promise.all(stalled.map((s) => s.closed));
    const ms = performance.now() - started;
    assert.ok(ms < 5_000, `the stalled connections were closed ${Math.round(ms)} ms after they opened (handshakeTimeoutSeconds: 3)`);
  });

  it("answers the kubelet within 1 s while 64 idle connections (a whole preface, then nothing) hold the health port", async () => {
    const idle = await stallMany(64, async () => {
      const s = await stall(netConnect(hostPort(addresses.health)), undefined);
      // A whole HTTP/2 preface: the connection is proven, and then idle.
      s.socket.write(Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
      return s;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (let i = 0; i < 5; i++) await kubeletProbe();
    assert.ok(idle.filter((s) => !s.isOpen()).length >= 5, "the oldest idle connections made room");
    for (const s of idle) s.socket.destroy();
  });

  it("answers /readyz and /metrics within 1 s while 64 connections hold the metrics port in the middle of their headers", async () => {
    const slow = await stallMany(64, () => stall(netConnect(hostPort(addresses.metrics)), "GET /metrics HTTP/1.1\r\nHost: x\r\n"));
    try {
      for (let i = 0; i < 5; i++) {
        assert.equal(await probeGet(`http://${addresses.metrics}/readyz`, 1_000), 200);
        assert.equal(await probeGet(`http://${addresses.metrics}/metrics`, 1_000), 200);
      }
    } finally {
      for (const s of slow) s.socket.destroy();
    }
  });

  it("keeps serving the Connect port while one client holds 1,000 partial-header connections, and holds at most 128 of them", {
    timeout: 60_000,
  }, async () => {
    const { host, port } = hostPort(addresses.http);
    const slowloris = await stallMany(1_000, () =>
      stall(
        tlsConnect({ host, port, ca: f.pki.ca.cert, servername: "localhost" }),
        "POST /clustertoken.v1.ClusterTokenService/GenerateToken HTTP/1.1\r\nHost: x\r\n",
      ),
    );
    try {
      /** A legitimate call on a new connection, from `localAddress`. */
      const call = (localAddress: string) =>
        new Promise<number>((resolve, reject) => {
          const req = request(
            `https://${addresses.http}/clustertoken.v1.ClusterTokenService/GenerateToken`,
            {
              method: "POST",
              agent: false,
              localAddress,
              ca: f.pki.ca.cert,
              timeout: 2_000,
              headers: { "content-type": "application/json", authorization: `Bearer ${f.keys.deployer.key}` },
            },
            (res) => {
              res.resume();
              res.on("end", () => resolve(res.statusCode ?? 0));
            },
          );
          req.on("timeout", () => req.destroy(new Error("no answer within 2 s")));
          req.on("error", reject);
          req.end(JSON.stringify({ clusterId: "demo-eks" }));
        });
      for (let i = 0; i < 10; i++) {
        assert.equal(await call("127.0.0.1"), 200, "from the attacker's own address");
        assert.equal(await call("127.0.0.2"), 200, "from another address");
      }
      const stillOpen = slowloris.filter((s) => s.isOpen()).length;
      assert.ok(
        stillOpen <= 128,
        `${stillOpen} of the client's 1,000 stalled connections are held (limits.maxStalledConnectionsPerAddress: 128)`,
      );
    } finally {
      for (const s of slowloris) s.socket.destroy();
    }
  });
});
