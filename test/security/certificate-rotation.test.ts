import assert from "node:assert/strict";
import { copyFile, mkdtemp } from "node:fs/promises";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type PeerCertificate, type TLSSocket } from "node:tls";
import { before, describe, it } from "node:test";
import { createSecureFixture, secureRawConfig, type SecureFixture } from "../support/secure-fixture.js";
import { startServeProcess } from "../support/serve-process.js";
import { testAwsEnv } from "../support/test-config.js";

/** POSTs a Connect ListClusters over `agent` and returns the status and the certificate the connection was made with. */
function listOver(agent: Agent, address: string, apiKey: string): Promise<{ status: number; serial: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `https://${address}/clustertoken.v1.ClusterTokenService/ListClusters`,
      { method: "POST", agent, headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` } },
      (res) => {
        const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, serial }));
      },
    );
    req.on("error", reject);
    req.end("{}");
  });
}

/** The certificate a fresh TLS handshake with `address` presents (ALPN `alpn`). */
function handshakeSerial(address: string, ca: Buffer, alpn: string): Promise<string> {
  const [host, port] = address.split(":") as [string, string];
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port), ca, ALPNProtocols: [alpn], servername: "localhost" }, () => {
      const cert: PeerCertificate = socket.getPeerCertificate();
      socket.destroy();
      resolve(cert.serialNumber);
    });
    socket.on("error", reject);
  });
}

describe("TLS certificate rotation on SIGHUP", () => {
  let f: SecureFixture;
  before(async () => {
    f = await createSecureFixture();
  });

  it("gives new handshakes the new certificate on both listeners, while established connections keep working", {
    timeout: 60_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "cts-rotate-"));
    const certFile = join(dir, "server.crt");
    const keyFile = join(dir, "server.key");
    await copyFile(f.server.certFile, certFile);
    await copyFile(f.server.keyFile, keyFile);
    const raw = secureRawConfig(f, { mtls: false }) as { security: { tls: Record<string, string> } };
    raw.security.tls = { certFile, keyFile };
    const svc = await startServeProcess(raw, {
      env: testAwsEnv,
    });
    try {
      const kept = new Agent({ ca: f.pki.ca.cert, keepAlive: true, maxSockets: 1 });
      const first = await listOver(kept, svc.http, f.keys.reader.key);
      assert.equal(first.status, 200);
      const oldSerial = await handshakeSerial(svc.grpc, f.pki.ca.cert, "h2");
      assert.equal(first.serial, oldSerial);

      const renewed = await f.pki.issue("renewed", {
        cn: "cluster-token-service",
        sans: ["IP:127.0.0.1", "DNS:localhost"],
        usage: "server",
      });
      await copyFile(renewed.certFile, certFile);
      await copyFile(renewed.keyFile, keyFile);
      const before = svc.lines().length;
      svc.child.kill("SIGHUP");
      await svc.waitForLine((l) => l.msg === "config reloaded", 10_000, before);

      const newSerial = await handshakeSerial(svc.grpc, f.pki.ca.cert, "h2");
      assert.notEqual(newSerial, oldSerial, "a new gRPC handshake gets the new certificate");
      assert.equal(await handshakeSerial(svc.http, f.pki.ca.cert, "http/1.1"), newSerial, "so does a new HTTPS handshake");
      const again = await listOver(kept, svc.http, f.keys.reader.key);
      assert.equal(again.status, 200, "the established connection keeps working");
      assert.equal(again.serial, oldSerial, "on the certificate it was made with");
      const fresh = await listOver(new Agent({ ca: f.pki.ca.cert }), svc.http, f.keys.reader.key);
      assert.equal(fresh.serial, newSerial);
      kept.destroy();
    } finally {
      svc.child.kill("SIGKILL");
      await svc.exited();
    }
  });
});
