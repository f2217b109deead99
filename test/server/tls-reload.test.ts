import assert from "node:assert/strict";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { Agent } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { ClusterTokenService } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";
import { createSecureFixture, secureRawConfig, type SecureFixture } from "../support/secure-fixture.js";
import { startServeProcess } from "../support/serve-process.js";
import { testAwsEnv } from "../support/test-config.js";
import { httpGet } from "../support/serve-lifecycle.js";

describe("reload validates the TLS files it will use", () => {
  let f: SecureFixture;
  before(async () => {
    f = await createSecureFixture();
  });

  it("SIGHUP with an empty, a garbage or a missing client CA, or a key that is not the certificate's, is refused; mTLS clients keep working and health stays true", {
    timeout: 90_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "cts-tls-reload-"));
    const clientCaFile = join(dir, "client-ca.pem");
    const keyFile = join(dir, "server.key");
    await copyFile(f.pki.ca.certFile, clientCaFile);
    await copyFile(f.server.keyFile, keyFile);
    const raw = secureRawConfig(f, { mtls: true }) as { listen: Record<string, string>; security: { tls: Record<string, string> } };
    raw.listen.metrics = "127.0.0.1:0";
    raw.security.tls = { certFile: f.server.certFile, keyFile, clientCaFile };
    const svc = await startServeProcess(raw, { env: testAwsEnv });
    const metricsUrl = `http://${String((await svc.waitForLine((l) => l.msg === "serving")).metrics)}`;
    // Fresh connections each time, so that each handshake uses whatever context the listeners hold now.
    const mtls = { ca: f.pki.ca.cert, cert: f.ciCert.cert, key: f.ciCert.key };
    const listOverFreshConnections = async () => {
      const grpc = createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `https://${svc.grpc}`, nodeOptions: mtls }));
      const connect = createClient(
        ClusterTokenService,
        createConnectTransport({ baseUrl: `https://${svc.http}`, httpVersion: "1.1", nodeOptions: { ...mtls, agent: new Agent(mtls) } }),
      );
      const health = createClient(Health, createGrpcTransport({ baseUrl: `https://${svc.grpc}`, nodeOptions: mtls }));
      return {
        grpc: (await grpc.listClusters({})).clusters.length,
        connect: (await connect.listClusters({})).clusters.length,
        health: (await health.check({ service: "" })).status,
        readyz: (await httpGet(`${metricsUrl}/readyz`)).status,
      };
    };
    const working = { grpc: 1, connect: 1, health: HealthCheckResponse_ServingStatus.SERVING, readyz: 200 };
    try {
      assert.deepEqual(await listOverFreshConnections(), working);
      const broken: [string, () => Promise<void>, RegExp][] = [
        ["an empty client CA", () => writeFile(clientCaFile, ""), /security\.tls\.clientCaFile \S+ holds no PEM certificate/],
        ["a garbage client CA", () => writeFile(clientCaFile, "garbage\n"), /security\.tls\.clientCaFile \S+ holds no PEM certificate/],
        ["a missing client CA", () => rm(clientCaFile), /cannot read security\.tls\.clientCaFile \S+ \(ENOENT\)/],
        [
          "a key that is not the certificate's",
          () => copyFile(f.opsCert.keyFile, keyFile),
          /is not the certificate of security\.tls\.keyFile/,
        ],
      ];
      for (const [what, breakIt, problem] of broken) {
        await breakIt();
        const before = svc.lines().length;
        svc.child.kill("SIGHUP");
        const refused = await svc.waitForLine((l) => String(l.msg).startsWith("config reload"), 20_000, before);
        assert.equal(refused.msg, "config reload refused; the running config stays", what);
        assert.match(JSON.stringify(refused.problems), problem, what);
        assert.deepEqual(await listOverFreshConnections(), working, `mTLS clients keep working after ${what}`);
        await copyFile(f.pki.ca.certFile, clientCaFile);
        await copyFile(f.server.keyFile, keyFile);
      }
      const scrape = (await httpGet(`${metricsUrl}/metrics`)).body;
      assert.match(scrape, /^cluster_token_config_reloads_total\{result="failure"\} 4$/m);
      assert.doesNotMatch(scrape, /^cluster_token_config_reloads_total\{result="success"\}/m);

      const before = svc.lines().length;
      svc.child.kill("SIGHUP");
      await svc.waitForLine((l) => l.msg === "config reloaded", 20_000, before);
      assert.deepEqual(await listOverFreshConnections(), working, "the repaired files reload");
    } finally {
      svc.child.kill("SIGKILL");
      await svc.exited();
    }
  });
});
