import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";
import { startFakeEks } from "../fakes/fake-eks.js";
import type { FakeServer } from "../fakes/fake-http-server.js";
import { RawHttp2Connection, errorCodes, frameTypes } from "../support/raw-http2.js";
import { createSecureFixture, secureClients, secureRawConfig, type SecureFixture } from "../support/secure-fixture.js";
import { type ServeProcess, startServeProcess } from "../support/serve-process.js";
import { spawnStreamFlood } from "../support/stream-flood.js";
import { testAwsKeys, testCaData } from "../support/test-config.js";

const childEnv = { CTS_TEST_AWS_ACCESS_KEY_ID: testAwsKeys.accessKeyId, CTS_TEST_AWS_SECRET_ACCESS_KEY: testAwsKeys.secretAccessKey };
const generateToken = "/clustertoken.v1.ClusterTokenService/GenerateToken";

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024;

/** The secure config (TLS, API keys) with a plaintext health port, `limits`, and a cluster discovered through `eks`. */
function config(f: SecureFixture, limits: Record<string, number>, eks?: FakeServer) {
  const raw = secureRawConfig(f, { mtls: false, limits }) as { listen: object; clusters: object[] };
  return {
    ...raw,
    listen: { ...raw.listen, health: "127.0.0.1:0" },
    logging: { level: "info" },
    clusters: [
      ...raw.clusters,
      ...(eks
        ? [{ id: "demo-found", provider: "aws", region: "us-west-2", name: "found", credentials: "aws-test", apiEndpoint: eks.url }]
        : []),
    ],
  };
}

async function serve(raw: unknown): Promise<ServeProcess & { health: string }> {
  const proc = await startServeProcess(raw, { env: childEnv });
  return Object.assign(proc, { health: String((await proc.waitForLine((l) => l.msg === "serving")).health) });
}

describe("gRPC streams are bounded before authentication, on both gRPC ports (issue 18: half-open streams)", () => {
  let f: SecureFixture;
  let eks: FakeServer;
  before(async () => {
    f = await createSecureFixture();
    const keys = new Map([[testAwsKeys.accessKeyId, { secretAccessKey: testAwsKeys.secretAccessKey }]]);
    eks = await startFakeEks({
      region: "us-west-2",
      keys,
      clusters: { found: { endpoint: "https://found.example.com", caData: testCaData } },
    });
  });
  after(() => eks.close());

  describe("with short limits", () => {
    let svc: ServeProcess & { health: string };
    before(async () => {
      svc = await serve(config(f, { firstMessageTimeoutSeconds: 1, maxCallsInFlight: 4, maxStreamsPerConnection: 6 }, eks));
    });
    after(() => svc.child.kill("SIGKILL"));

    for (const port of ["grpc", "health"] as const) {
      it(`answers DEADLINE_EXCEEDED and resets a stream that sends only its headers, within the deadline (${port} port)`, async () => {
        const raw = await RawHttp2Connection.open(svc[port], port === "grpc" ? f.pki.ca.cert : undefined);
        try {
          const started = performance.now();
          raw.request(1, port === "grpc" ? generateToken : "/grpc.health.v1.Health/Check");
          const reset = await raw.waitFor((fr) => fr.type === frameTypes.RST_STREAM && fr.streamId === 1, 3_000);
          const ms = performance.now() - started;
          assert.equal(reset.errorCode, errorCodes.NO_ERROR, "the answer is complete; the client is told to stop sending");
          assert.ok(ms >= 900 && ms < 2_500, `reset after ${Math.round(ms)} ms, with a 1 s deadline`);
          const answer = raw.frames.find((fr) => fr.type === frameTypes.HEADERS && fr.streamId === 1);
          assert.ok(answer && answer.flags & 0x1, "a trailers-only status came first, ending the stream");
        } finally {
          raw.close();
        }
      });
    }

    // grpc-js answers these before any interceptor: Node itself resets a server stream that answered without reading.
    it("resets at once a stream grpc-js answers by itself (an unknown method, a wrong content-type)", async () => {
      const raw = await RawHttp2Connection.open(svc.grpc, f.pki.ca.cert);
      try {
        raw.request(1, "/no.such.Service/Method");
        raw.request(3, generateToken, [["content-type", "text/plain"]]);
        for (const id of [1, 3]) {
          const reset = await raw.waitFor((fr) => fr.type === frameTypes.RST_STREAM && fr.streamId === id, 800);
          assert.equal(reset.errorCode, errorCodes.NO_ERROR);
        }
      } finally {
        raw.close();
      }
    });

    it("advertises its streams per connection, and closes a connection after as many resets without a request", async () => {
      const raw = await RawHttp2Connection.open(svc.grpc, f.pki.ca.cert);
      try {
        const settings = await raw.waitFor((fr) => fr.type === frameTypes.SETTINGS && (fr.flags & 0x1) === 0);
        const values = new Map<number, number>();
        for (let i = 0; i + 6 <= settings.payload.length; i += 6)
          values.set(settings.payload.readUInt16BE(i), settings.payload.readUInt32BE(i + 2));
        assert.equal(values.get(0x3), 6, "SETTINGS_MAX_CONCURRENT_STREAMS");
        for (let id = 1; id <= 11; id += 2) raw.request(id, generateToken);
        const goaway = await raw.waitFor((fr) => fr.type === frameTypes.GOAWAY, 3_000);
        assert.equal(goaway.errorCode, errorCodes.ENHANCE_YOUR_CALM);
      } finally {
        raw.close();
      }
    });

    it("holds maxCallsInFlight calls: a new call displaces a stream still waiting for its request, and gets RESOURCE_EXHAUSTED at once when none waits", {
      timeout: 20_000,
    }, async () => {
      const { grpc } = secureClients({ grpcAddress: svc.grpc, httpAddress: svc.http }, { ca: f.pki.ca.cert, apiKey: f.keys.reader.key });
      const raw = await RawHttp2Connection.open(svc.grpc, f.pki.ca.cert);
      try {
        for (let id = 1; id <= 7; id += 2) raw.request(id, generateToken);
        await raw.waitFor((fr) => fr.type === frameTypes.SETTINGS && (fr.flags & 0x1) === 1);
        await new Promise((resolve) => setTimeout(resolve, 100));
        eks.fault = { delayMs: 2_500 };
        const slow = Array.from({ length: 4 }, () => grpc.getKubeconfig({ clusterId: "demo-found" }, { timeoutMs: 8_000 }));
        const displaced = await raw.waitFor((fr) => fr.type === frameTypes.RST_STREAM, 2_000);
        assert.equal(displaced.errorCode, errorCodes.NO_ERROR, "a header-only stream made room");
        // The four calls share one discovery (single flight): once it has reached the cloud, all four are in flight.
        const seen = eks.requests.length;
        for (let i = 0; i < 100 && eks.requests.length === seen; i++) await new Promise((resolve) => setTimeout(resolve, 20));
        await new Promise((resolve) => setTimeout(resolve, 200));
        const started = performance.now();
        const refused = await grpc.getKubeconfig({ clusterId: "demo-found" }, { timeoutMs: 8_000 }).catch((err: unknown) => err);
        assert.ok(refused instanceof ConnectError, "the fifth call is refused");
        assert.equal(refused.code, Code.ResourceExhausted);
        assert.match(refused.rawMessage, /limits\.maxCallsInFlight/);
        assert.ok(performance.now() - started < 1_000, "at once, not when a slot frees");
        const answers = await Promise.all(slow);
        assert.ok(
          answers.every((a) => a.kubeconfig.includes("found.example.com")),
          "calls longer than the first-message deadline complete",
        );
      } finally {
        eks.fault = undefined;
        raw.close();
      }
    });

    it("serves only Health/Check on the health port: no watch there can pile up", async () => {
      const health = createClient(Health, createGrpcTransport({ baseUrl: `http://${svc.health}` }));
      assert.equal((await health.check({})).status, HealthCheckResponse_ServingStatus.SERVING);
      await assert.rejects(
        async () => {
          for await (const _ of health.watch({}, { timeoutMs: 2_000 })) break;
        },
        (err: ConnectError) => err.code === Code.Unimplemented,
      );
    });
  });

  describe("under the flood of the report, with the default limits", () => {
    let svc: ServeProcess & { health: string };
    before(async () => {
      svc = await serve(config(f, {}));
    });
    after(() => svc.child.kill("SIGKILL"));

    it("stays within 100 MB of its RSS while 6 connections each open 10,000 header-only streams, and keeps serving", {
      timeout: 60_000,
    }, async (t) => {
      const { grpc } = secureClients({ grpcAddress: svc.grpc, httpAddress: svc.http }, { ca: f.pki.ca.cert, apiKey: f.keys.deployer.key });
      const health = createClient(Health, createGrpcTransport({ baseUrl: `https://${svc.grpc}`, nodeOptions: { ca: f.pki.ca.cert } }));
      const portHealth = createClient(Health, createGrpcTransport({ baseUrl: `http://${svc.health}` }));
      const probe = async () => {
        // The kubelet's probe gives up after 1 s (timeoutSeconds: 1); the others are ordinary callers.
        assert.equal((await portHealth.check({}, { timeoutMs: 1_000 })).status, HealthCheckResponse_ServingStatus.SERVING);
        assert.equal((await health.check({}, { timeoutMs: 2_000 })).status, HealthCheckResponse_ServingStatus.SERVING);
        assert.match((await grpc.generateToken({ clusterId: "demo-eks" }, { timeoutMs: 2_000 })).status!.token, /^k8s-aws-v1\./);
      };
      await probe();
      const baseline = rssMb(svc.child.pid!);
      const flood = spawnStreamFlood({
        url: `https://${svc.grpc}`,
        connections: 6,
        streamsPerConnection: 10_000,
        ca: f.pki.ca.cert.toString(),
        headers: { authorization: "Bearer cts_wrong-key" },
      });
      let peak = baseline;
      let probes = 0;
      try {
        const until = performance.now() + 12_000;
        while (performance.now() < until) {
          await probe();
          probes++;
          peak = Math.max(peak, rssMb(svc.child.pid!));
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        await flood.stop();
      }
      const stats = flood.stats();
      t.diagnostic(`RSS ${baseline.toFixed(0)} → ${peak.toFixed(0)} MB; ${probes} probes; flood ${JSON.stringify(stats)}`);
      assert.ok((stats?.reset ?? 0) > 600, "the server reset the flood's streams (at most 100 per connection are open at once)");
      assert.ok(peak - baseline <= 100, `RSS ${baseline.toFixed(0)} MB before, ${peak.toFixed(0)} MB at its peak`);
    });
  });
});
