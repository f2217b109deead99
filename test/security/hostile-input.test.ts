import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { request } from "node:https";
import { connect as http2Connect } from "node:http2";
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { after, before, describe, it } from "node:test";
import { startTestService, type RunningService } from "../support/running-service.js";
import { grpcFrame } from "../support/raw-grpc.js";
import { httpsPost } from "../support/raw-https.js";
import { createSecureFixture, secureClients, secureRawConfig, type SecureFixture } from "../support/secure-fixture.js";
import { testConfig } from "../support/test-config.js";

const path = "/clustertoken.v1.ClusterTokenService/GenerateToken";

describe("security: hostile input on both ports", () => {
  let f: SecureFixture;
  let svc: RunningService;
  let auth: string;
  before(async () => {
    f = await createSecureFixture();
    svc = await startTestService(
      testConfig(
        secureRawConfig(f, { mtls: false, limits: { handshakeTimeoutSeconds: 1, headersTimeoutSeconds: 1, idleTimeoutSeconds: 2 } }),
      ),
    );
    auth = `Bearer ${f.keys.deployer.key}`;
  });
  after(() => svc.close());

  const port = (address: string) => Number(address.slice(address.lastIndexOf(":") + 1));

  /** One gRPC request over TLS with raw body and headers: its grpc-status, or the HTTP/2 reset code. */
  function grpcRaw(body: Buffer, headers: Record<string, string> = {}): Promise<{ status?: string; resetCode?: number }> {
    return new Promise((resolve, reject) => {
      const session = http2Connect(`https://${svc.server.grpcAddress}`, { ca: f.pki.ca.cert });
      session.on("error", reject);
      const stream = session.request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/grpc",
        te: "trailers",
        authorization: auth,
        ...headers,
      });
      let status: string | undefined;
      stream.on("response", (h) => (status ??= h["grpc-status"] as string | undefined));
      stream.on("trailers", (t) => (status = t["grpc-status"] as string | undefined));
      stream.on("error", () => {});
      stream.on("data", () => {});
      stream.on("close", () => {
        session.close();
        resolve(status !== undefined ? { status } : { resetCode: stream.rstCode });
      });
      stream.end(body);
    });
  }

  /** One HTTPS request with a raw body and headers: its status. */
  const httpRaw = async (body: Buffer | string, headers: Record<string, string>) =>
    (await httpsPost(`https://${svc.server.httpAddress}${path}`, f.pki.ca.cert, body, headers)).status;

  /** Opens a connection that sends nothing; resolves with how long until the server closed it, or undefined if it stayed open for `waitMs`. */
  function silent(open: () => Socket, waitMs: number): Promise<{ closedAfterMs?: number; received: string }> {
    return new Promise((resolve) => {
      const started = Date.now();
      const socket = open();
      let received = "";
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ received });
      }, waitMs);
      socket.on("data", (d: Buffer) => (received += d.toString("latin1")));
      socket.on("error", () => {});
      socket.on("close", () => {
        clearTimeout(timer);
        resolve({ closedAfterMs: Date.now() - started, received });
      });
    });
  }

  describe("gRPC port", () => {
    it("random bytes in gRPC frames get INVALID_ARGUMENT (or a validation code), never INTERNAL or UNKNOWN", async () => {
      for (let i = 0; i < 25; i++) {
        const { status } = await grpcRaw(grpcFrame(randomBytes(1 + ((i * 37) % 400))));
        assert.ok(["3", "5", "7"].includes(status ?? ""), `status ${status}`);
      }
    });

    it("truncated frames and random unframed bytes get a gRPC status", async () => {
      assert.ok((await grpcRaw(Buffer.from([0, 0, 0, 0, 100, 1, 2, 3]))).status, "truncated frame");
      assert.ok((await grpcRaw(Buffer.from([0, 0, 0]))).status, "truncated header");
      assert.notEqual((await grpcRaw(randomBytes(64))).status, "0", "random unframed bytes");
    });

    it("a wrong compression flag gets a status", async () => {
      assert.equal(
        (await grpcRaw(Buffer.from([1, 0, 0, 0, 3, 0x61, 0x62, 0x63]))).status,
        "13",
        "a Compressed-Flag under identity is INTERNAL, as the gRPC spec says",
      );
      assert.equal((await grpcRaw(Buffer.from([1, 0, 0, 0, 3, 0x61, 0x62, 0x63]), { "grpc-encoding": "gzip" })).status, "13");
    });

    it("a 1 MB message is RESOURCE_EXHAUSTED", async () => {
      assert.equal((await grpcRaw(grpcFrame(randomBytes(1024 * 1024)))).status, "8");
    });

    it("thousands of headers are refused by the HTTP/2 layer (RST_STREAM REFUSED_STREAM or ENHANCE_YOUR_CALM)", async () => {
      const headers = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`x-hostile-${i}`, "v"]));
      const result = await grpcRaw(grpcFrame(Buffer.alloc(0)), headers);
      assert.ok(result.status !== undefined || result.resetCode === 7 || result.resetCode === 11, JSON.stringify(result));
    });

    it("silent connections do not impair service", async () => {
      const sockets = Array.from({ length: 50 }, () => netConnect(port(svc.server.grpcAddress), "127.0.0.1").on("error", () => {}));
      try {
        const client = secureClients(svc.server, { ca: f.pki.ca.cert, apiKey: f.keys.deployer.key }).grpc;
        assert.match((await client.generateToken({ clusterId: "demo-eks" })).status!.token, /^k8s-aws-v1\./);
      } finally {
        for (const s of sockets) s.destroy();
      }
    });
  });

  describe("HTTP port", () => {
    const json = { "content-type": "application/json" };
    it("invalid JSON and invalid UTF-8 are 400", async () => {
      assert.equal(await httpRaw('{"clusterId":', { ...json, authorization: auth }), 400);
      assert.equal(
        await httpRaw(
          Buffer.from([0x7b, 0x22, 0x63, 0x6c, 0x75, 0x73, 0x74, 0x65, 0x72, 0x49, 0x64, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
          { ...json, authorization: auth },
        ),
        400,
      );
    });

    it("a 1 MB body is refused (resource_exhausted, 429)", async () => {
      assert.equal(await httpRaw(JSON.stringify({ clusterId: "x".repeat(1024 * 1024) }), { ...json, authorization: auth }), 429);
    });

    it("thousands of headers are 431", async () => {
      const headers = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`x-hostile-${i}`, "v"]));
      assert.equal(await httpRaw("{}", { ...json, ...headers }), 431);
    });

    it("a connection that sends nothing is closed at the handshake timeout; one that stalls in its headers gets 408", async () => {
      const tcp = await silent(() => netConnect(port(svc.server.httpAddress), "127.0.0.1"), 5000);
      assert.ok(tcp.closedAfterMs !== undefined && tcp.closedAfterMs < 3000, `closed after ${tcp.closedAfterMs}`);
      const tls = await silent(() => tlsConnect({ port: port(svc.server.httpAddress), host: "127.0.0.1", ca: f.pki.ca.cert }), 5000);
      assert.ok(tls.closedAfterMs !== undefined && tls.closedAfterMs < 3000, `closed after ${tls.closedAfterMs}`);
      assert.match(tls.received, /^HTTP\/1\.1 408 /);
    });
  });

  it("answers health checks on both ports afterwards", async () => {
    const grpcHealth = await new Promise<string | undefined>((resolve, reject) => {
      const session = http2Connect(`https://${svc.server.grpcAddress}`, { ca: f.pki.ca.cert });
      session.on("error", reject);
      const stream = session.request({
        ":method": "POST",
        ":path": "/grpc.health.v1.Health/Check",
        "content-type": "application/grpc",
        te: "trailers",
      });
      const chunks: Buffer[] = [];
      stream.on("data", (d: Buffer) => chunks.push(d));
      stream.on("close", () => {
        session.close();
        resolve(Buffer.concat(chunks).subarray(5).toString("hex"));
      });
      stream.end(grpcFrame(Buffer.alloc(0)));
    });
    assert.equal(grpcHealth, "0801", "HealthCheckResponse{status: SERVING}");
    const httpHealth = await new Promise<string>((resolve, reject) => {
      const req = request(
        `https://${svc.server.httpAddress}/grpc.health.v1.Health/Check`,
        { method: "POST", ca: f.pki.ca.cert, headers: { "content-type": "application/json" } },
        (res) => {
          let text = "";
          res.on("data", (d: Buffer) => (text += d));
          res.on("end", () => resolve(text));
        },
      );
      req.on("error", reject);
      req.end("{}");
    });
    assert.deepEqual(JSON.parse(httpHealth), { status: "SERVING" });
    assert.equal(svc.logs.records().filter((r) => r.level === "error").length, 0, "no hostile input was a server error");
  });
});
