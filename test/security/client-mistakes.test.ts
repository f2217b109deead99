import assert from "node:assert/strict";
import { connect as http2Connect, type IncomingHttpHeaders } from "node:http2";
import { request } from "node:https";
import { after, before, describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { GenerateTokenRequestSchema } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { grpcFrame } from "../support/raw-grpc.js";
import { RawHttp2Connection, errorCodes, frameTypes } from "../support/raw-http2.js";
import { createSecureFixture, secureRawConfig, type SecureFixture } from "../support/secure-fixture.js";
import { type ServeProcess, startServeProcess } from "../support/serve-process.js";
import { testAwsEnv } from "../support/test-config.js";

const generateToken = "/clustertoken.v1.ClusterTokenService/GenerateToken";
const healthCheck = "/grpc.health.v1.Health/Check";

interface GrpcAnswer {
  status: string | undefined;
  message: string;
  reason: string | undefined;
  requestId: string | undefined;
  ms: number;
}

/** The ErrorInfo reason in an answer's `grpc-status-details-bin`. */
function reasonOf(headers: IncomingHttpHeaders): string | undefined {
  const plain = Object.entries(headers).filter(([name, value]) => !name.startsWith(":") && typeof value === "string");
  return findTrailerError(new Headers(plain as [string, string][]))?.findDetails(ErrorInfoSchema)[0]?.reason;
}

describe("client mistakes get the right code (issue 18: wrong codes, oversized headers)", () => {
  let f: SecureFixture;
  let svc: ServeProcess;
  let healthAddress: string;
  let auth: string;
  before(async () => {
    f = await createSecureFixture();
    const raw = secureRawConfig(f, { mtls: false }) as { listen: object };
    svc = await startServeProcess(
      { ...raw, listen: { ...raw.listen, health: "127.0.0.1:0" }, logging: { level: "info" } },
      { env: testAwsEnv },
    );
    healthAddress = String((await svc.waitForLine((l) => l.msg === "serving")).health);
    auth = `Bearer ${f.keys.deployer.key}`;
  });
  after(() => svc.child.kill("SIGKILL"));

  /** One gRPC call with raw headers and body, over TLS to the gRPC port or in plaintext to the health port. */
  function grpcCall(address: string, path: string, body: Buffer, headers: Record<string, string>, tls = true): Promise<GrpcAnswer> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const session = http2Connect(`${tls ? "https" : "http"}://${address}`, tls ? { ca: f.pki.ca.cert } : {});
      session.on("error", reject);
      const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers });
      let answer: IncomingHttpHeaders = {};
      let requestId: string | undefined;
      stream.on("response", (h) => {
        answer = h;
        requestId = h["x-request-id"] as string | undefined;
      });
      stream.on("trailers", (t) => (answer = t));
      stream.on("data", () => {});
      stream.on("close", () => {
        session.close();
        const message = decodeURIComponent(String(answer["grpc-message"] ?? ""));
        resolve({
          status: answer["grpc-status"] as string | undefined,
          message,
          reason: reasonOf(answer),
          requestId,
          ms: performance.now() - started,
        });
      });
      stream.end(body);
    });
  }

  const tokenRequest = grpcFrame(toBinary(GenerateTokenRequestSchema, create(GenerateTokenRequestSchema, { clusterId: "demo-eks" })));

  describe("grpc-timeout", () => {
    for (const value of ["not-a-timeout-7f3a", "1.5S", "123456789S", "10", "S", "5 S", "12Sxyz"]) {
      it(`"${value}" is INVALID_ARGUMENT (MALFORMED_REQUEST), with the request id`, async () => {
        const r = await grpcCall(svc.grpc, generateToken, tokenRequest, {
          authorization: auth,
          "grpc-timeout": value,
          "x-request-id": "mistake-1",
        });
        assert.deepEqual([r.status, r.reason, r.requestId], ["3", "MALFORMED_REQUEST", "mistake-1"]);
        assert.match(r.message, /grpc-timeout/);
        assert.ok(!r.message.includes("7f3a"), "the header's value is not echoed");
      });
    }

    it("is checked for every service of both gRPC ports, health included", async () => {
      for (const [address, tls] of [
        [svc.grpc, true],
        [healthAddress, false],
      ] as const) {
        const r = await grpcCall(address, healthCheck, grpcFrame(Buffer.alloc(0)), { "grpc-timeout": "soon" }, tls);
        assert.deepEqual([r.status, r.reason], ["3", "MALFORMED_REQUEST"]);
      }
    });

    it("a valid timeout too long for grpc-js's arithmetic is a long deadline, not an expired one", async () => {
      for (const value of ["1000H", "99999999S", "5S", "99999999n"]) {
        const r = await grpcCall(svc.grpc, generateToken, tokenRequest, { authorization: auth, "grpc-timeout": value });
        assert.equal(r.status, "0", `grpc-timeout ${value}: ${r.message}`);
      }
    });
  });

  describe("gRPC-Web bodies that are not exactly one message frame", () => {
    const bodies: Record<string, Buffer> = {
      "no body": Buffer.alloc(0),
      "a truncated frame header": Buffer.from([0, 0, 0]),
      "a length longer than the body": Buffer.from("hello, this is not gRPC-Web"),
      "a trailer frame": Buffer.from([0x80, 0, 0, 0, 0]),
      "an unknown flag": Buffer.from([0x02, 0, 0, 0, 0]),
      "two frames": Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
      "bytes after the frame": Buffer.from([0, 0, 0, 0, 0, 1, 2]),
    };
    for (const [what, body] of Object.entries(bodies)) {
      it(`${what}: INVALID_ARGUMENT (MALFORMED_REQUEST)`, async () => {
        const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
          const req = request(
            `https://${svc.http}${generateToken}`,
            { method: "POST", ca: f.pki.ca.cert, headers: { "content-type": "application/grpc-web+proto", authorization: auth } },
            (res) => {
              let text = "";
              res.setEncoding("latin1").on("data", (d: string) => (text += d));
              res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
            },
          );
          req.on("error", reject);
          req.end(body);
        });
        assert.equal(status, 200);
        assert.match(text, /grpc-status: ?3\r\n/);
        const details = /grpc-status-details-bin: ?([A-Za-z0-9+/=]+)/.exec(text)?.[1];
        const reason = findTrailerError(new Headers({ "grpc-status": "3", "grpc-status-details-bin": details ?? "" }))?.findDetails(
          ErrorInfoSchema,
        )[0]?.reason;
        assert.equal(reason, "MALFORMED_REQUEST");
      });
    }
  });

  describe("oversized headers", () => {
    async function rawAnswer(headers: [string, string][]) {
      const raw = await RawHttp2Connection.open(svc.grpc, f.pki.ca.cert);
      try {
        raw.request(1, healthCheck, headers, Buffer.alloc(0));
        const first = await raw.waitFor((fr) => fr.streamId === 1 || fr.type === frameTypes.GOAWAY);
        // The connection's fate: a second call on it, answered or not.
        raw.request(3, healthCheck, [], Buffer.alloc(0));
        const second = await raw.waitFor((fr) => (fr.streamId === 3 && fr.type === frameTypes.HEADERS) || fr.type === frameTypes.GOAWAY);
        return { first, connectionServesOn: second.type === frameTypes.HEADERS };
      } finally {
        raw.close();
      }
    }

    it("a header list over 16 KiB, or over 128 fields, resets only its stream (RST_STREAM ENHANCE_YOUR_CALM)", async () => {
      const large = Array.from({ length: 5 }, (_, i): [string, string] => [`x-large-${i}`, "v".repeat(4_000)]);
      const many = Array.from({ length: 200 }, (_, i): [string, string] => [`x-many-${i}`, "v"]);
      for (const headers of [large, many]) {
        const { first, connectionServesOn } = await rawAnswer(headers);
        assert.deepEqual([first.type, first.errorCode], [frameTypes.RST_STREAM, errorCodes.ENHANCE_YOUR_CALM]);
        assert.ok(connectionServesOn, "the connection keeps serving");
      }
      assert.equal((await rawAnswer([["x-fine", "v".repeat(10_000)]])).first.type, frameTypes.HEADERS, "10 KB of headers are served");
    });

    it("a single field over 64 KiB closes the connection (GOAWAY COMPRESSION_ERROR): HPACK cannot decode it", async () => {
      const { first, connectionServesOn } = await rawAnswer([["x-huge", "v".repeat(70_000)]]);
      assert.deepEqual([first.type, first.errorCode], [frameTypes.GOAWAY, errorCodes.COMPRESSION_ERROR]);
      assert.equal(connectionServesOn, false);
    });

    it("the HTTP listener answers 431 to headers over 16 KiB", async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`https://${svc.http}${healthCheck}`, {
          method: "POST",
          ca: f.pki.ca.cert,
          headers: { "content-type": "application/json", "x-large": "v".repeat(20_000) },
        });
        req.on("response", (res) => resolve(res.statusCode ?? 0));
        req.on("error", reject);
        req.end("{}");
      });
      assert.equal(status, 431);
    });
  });
});
