import assert from "node:assert/strict";
import { connect, type IncomingHttpHeaders, type SecureClientSessionOptions } from "node:http2";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ClusterTokenService } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";
import { startFakeEks } from "../fakes/fake-eks.js";
import type { FakeServer } from "../fakes/fake-http-server.js";
import { RawHttp2Connection, type ReceivedFrame, errorCodes, frameTypes } from "../support/raw-http2.js";
import { createSecureFixture, secureRawConfig, type SecureFixture } from "../support/secure-fixture.js";
import { type ServeProcess, startServeProcess } from "../support/serve-process.js";
import { testAwsKeys, testCaData, testAwsEnv } from "../support/test-config.js";

const generateToken = "/clustertoken.v1.ClusterTokenService/GenerateToken";

/** Discovered clusters that only the fake EKS can locate. */
const foundClusters = ["demo-found0", "demo-found1", "demo-found2", "demo-found3"];

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
        ? ["demo-found", ...foundClusters].map((id) => ({
            id,
            provider: "aws",
            region: "us-west-2",
            name: id.slice("demo-".length),
            credentials: "aws-test",
            apiEndpoint: eks.url,
          }))
        : []),
    ],
  };
}

/**
 * A gRPC client with the reader's key (GetKubeconfig on demo-*), connecting from
 * `localAddress`: the server charges wasted streams to the address, so each test
 * that wastes some, or must not be taken for one that did, has a loopback address
 * of its own.
 */
function readerClient(f: SecureFixture, grpcAddress: string, localAddress: string) {
  const bearer: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${f.keys.reader.key}`);
    return next(req);
  };
  const nodeOptions = { ca: f.pki.ca.cert, localAddress } as SecureClientSessionOptions;
  return createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `https://${grpcAddress}`, nodeOptions, interceptors: [bearer] }));
}

async function serve(raw: unknown): Promise<ServeProcess & { health: string }> {
  const proc = await startServeProcess(raw, { env: testAwsEnv });
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
      clusters: Object.fromEntries(
        ["found", "found0", "found1", "found2", "found3"].map((name) => [
          name,
          { endpoint: `https://${name}.example.com`, caData: testCaData },
        ]),
      ),
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
        const raw = await RawHttp2Connection.open(svc[port], port === "grpc" ? f.pki.ca.cert : undefined, "127.0.0.11");
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
      const raw = await RawHttp2Connection.open(svc.grpc, f.pki.ca.cert, "127.0.0.13");
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

    it("advertises its streams per connection, halves them for each reset without a request, closes the connection after as many, and remembers its address", async () => {
      const maxStreams = (settings: ReceivedFrame) => {
        for (let i = 0; i + 6 <= settings.payload.length; i += 6)
          if (settings.payload.readUInt16BE(i) === 0x3) return settings.payload.readUInt32BE(i + 2);
        return undefined;
      };
      const advertised = (raw: RawHttp2Connection) =>
        raw.frames.filter((fr) => fr.type === frameTypes.SETTINGS && (fr.flags & 0x1) === 0).map(maxStreams);
      const raw = await RawHttp2Connection.open(svc.grpc, f.pki.ca.cert, "127.0.0.14");
      try {
        await raw.waitFor((fr) => fr.type === frameTypes.SETTINGS && (fr.flags & 0x1) === 0);
        assert.deepEqual(advertised(raw), [6], "SETTINGS_MAX_CONCURRENT_STREAMS");
        for (let id = 1; id <= 11; id += 2) raw.request(id, generateToken);
        // At the 1 s deadline each is reset, and each reset halves what the connection may open: the server says so.
        for (let id = 1; id <= 11; id += 2) await raw.waitFor((fr) => fr.type === frameTypes.RST_STREAM && fr.streamId === id, 3_000);
        // This client acknowledges no SETTINGS: the first lowered value goes out, later ones wait for its acknowledgement.
        assert.deepEqual(advertised(raw), [6, 3]);
        // Streams it keeps wasting, one at a time, bring it to maxStreamsPerConnection resets: GOAWAY.
        for (let id = 13; id <= 15; id += 2) raw.request(id, generateToken);
        const goaway = await raw.waitFor((fr) => fr.type === frameTypes.GOAWAY, 3_000);
        assert.equal(goaway.errorCode, errorCodes.ENHANCE_YOUR_CALM);
      } finally {
        raw.close();
      }
      const again = await RawHttp2Connection.open(svc.grpc, f.pki.ca.cert, "127.0.0.14");
      const other = await RawHttp2Connection.open(svc.grpc, f.pki.ca.cert, "127.0.0.24");
      try {
        again.request(1, generateToken);
        await again.waitFor((fr) => fr.type === frameTypes.SETTINGS && maxStreams(fr) === 1, 3_000);
        // A health check, answered in full: a stream that wastes nothing.
        other.request(1, "/grpc.health.v1.Health/Check", [], Buffer.alloc(0));
        await other.waitFor((fr) => fr.type === frameTypes.HEADERS && fr.streamId === 1 && (fr.flags & 0x1) === 1, 3_000);
        assert.deepEqual(advertised(other), [6], "another address is not charged");
      } finally {
        again.close();
        other.close();
      }
    });

    it("never cuts a call whose request has arrived, however long it runs past the first-message deadline", {
      timeout: 20_000,
    }, async () => {
      const grpc = readerClient(f, svc.grpc, "127.0.0.15");
      eks.fault = { hold: true };
      try {
        const seen = eks.requests.length;
        const started = performance.now();
        const call = grpc.getKubeconfig({ clusterId: "demo-found" }, { timeoutMs: 15_000 });
        await eks.received(seen + 1);
        // Past the 1 s deadline measured from the call's headers, with margin, before the cloud answers.
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1_500 - (performance.now() - started))));
        assert.equal(await eks.release(), 1);
        assert.match((await call).kubeconfig, /found\.example\.com/);
      } finally {
        eks.fault = undefined;
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

  describe("with a port of four calls and a long first-message deadline", () => {
    let svc: ServeProcess & { health: string };
    before(async () => {
      svc = await serve(config(f, { firstMessageTimeoutSeconds: 60, maxCallsInFlight: 4, maxStreamsPerConnection: 6 }, eks));
    });
    after(() => svc.child.kill("SIGKILL"));

    it("holds maxCallsInFlight calls: each new call displaces a stream still waiting for its request, and one more gets RESOURCE_EXHAUSTED at once when none waits", {
      timeout: 20_000,
    }, async () => {
      // Four header-only streams, which no deadline can end during the test (60 s): only a displacement answers them.
      const waiting = connect(`https://${svc.grpc}`, { ca: f.pki.ca.cert, localAddress: "127.0.0.21" } as SecureClientSessionOptions);
      waiting.on("error", () => {});
      const grpc = readerClient(f, svc.grpc, "127.0.0.22");
      eks.fault = { hold: true };
      try {
        const answers = Array.from({ length: 4 }, () => {
          const stream = waiting.request(
            { ":method": "POST", ":path": generateToken, "content-type": "application/grpc", te: "trailers" },
            { endStream: false },
          );
          stream.on("error", () => {});
          return new Promise<IncomingHttpHeaders>((resolve) => stream.once("response", resolve));
        });
        // The server answers a PING after the frames before it: the four streams are held.
        await new Promise((resolve) => waiting.ping(resolve));
        const seen = eks.requests.length;
        let settled = 0;
        const slow = foundClusters.map((clusterId) => grpc.getKubeconfig({ clusterId }, { timeoutMs: 15_000 }).finally(() => settled++));
        for (const answer of await Promise.all(answers)) {
          assert.equal(answer["grpc-status"], String(Code.ResourceExhausted), "displaced, not timed out");
          assert.match(decodeURIComponent(String(answer["grpc-message"])), /limits\.maxCallsInFlight/);
        }
        // Four clusters, four discoveries held at the cloud: every call's request has arrived, all four are in flight.
        await eks.received(seen + 4);
        const refused = await grpc.getKubeconfig({ clusterId: foundClusters[0]! }, { timeoutMs: 15_000 }).catch((err: unknown) => err);
        assert.ok(refused instanceof ConnectError, "the fifth call is refused");
        assert.equal(refused.code, Code.ResourceExhausted);
        assert.match(refused.rawMessage, /limits\.maxCallsInFlight/);
        assert.equal(settled, 0, "at once, while all four still wait for the cloud, not when a slot frees");
        assert.equal(await eks.release(), 4);
        for (const answer of await Promise.all(slow)) assert.match(answer.kubeconfig, /found\d\.example\.com/);
      } finally {
        eks.fault = undefined;
        await eks.release();
        waiting.destroy();
      }
    });
  });
});
