import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  GenerateTokenRequestSchema,
  GetKubeconfigRequestSchema,
  type KubeconfigMode,
} from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { rawGrpcRequest } from "../support/raw-grpc.js";
import { startTestService, type RunningService } from "../support/running-service.js";

const service = "clustertoken.v1.ClusterTokenService";

describe("bad input", () => {
  let svc: RunningService;
  let grpcClient: grpc.Client;
  before(async () => {
    svc = await startTestService();
    grpcClient = new grpc.Client(svc.server.grpcAddress, grpc.credentials.createInsecure());
  });
  after(async () => {
    grpcClient.close();
    await svc.close();
  });

  /** Sends raw bytes as the gRPC message of `method` and resolves with the status and ErrorInfo reason. */
  function grpcRaw(method: string, message: Buffer): Promise<{ code: grpc.status; details: string; reason: string | undefined }> {
    return new Promise((resolve) =>
      grpcClient.makeUnaryRequest(
        `/${service}/${method}`,
        (b: Buffer) => b,
        (b: Buffer) => b,
        message,
        (err) => {
          const bin = err?.metadata?.get("grpc-status-details-bin")[0] as Buffer | undefined;
          const reason = bin
            ? findTrailerError(
                new Headers({ "grpc-status": String(err!.code), "grpc-status-details-bin": bin.toString("base64") }),
              )?.findDetails(ErrorInfoSchema)[0]?.reason
            : undefined;
          resolve({ code: err?.code ?? grpc.status.OK, details: err?.details ?? "", reason });
        },
      ),
    );
  }

  /** POSTs a raw body to a Connect method and returns the status and parsed error JSON. */
  async function connectRaw(method: string, body: string | Uint8Array, contentType = "application/json") {
    const res = await fetch(`${svc.httpUrl}/${service}/${method}`, { method: "POST", headers: { "content-type": contentType }, body });
    const text = await res.text();
    let json: { code?: string; message?: string; details?: { debug?: { reason?: string } }[] } = {};
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      assert.fail(`every answer has a JSON body, not ${JSON.stringify(text.slice(0, 100))}`);
    }
    return { status: res.status, code: json.code, message: json.message ?? "", reason: json.details?.[0]?.debug?.reason };
  }

  describe("on the Connect listener", () => {
    it("malformed JSON is 400 invalid_argument", async () => {
      const r = await connectRaw("GenerateToken", '{"clusterId": "demo-eks"');
      assert.deepEqual([r.status, r.code], [400, "invalid_argument"]);
    });

    it("a wrong content-type is 415", async () => {
      const r = await connectRaw("GenerateToken", "clusterId=demo-eks", "application/x-www-form-urlencoded");
      assert.equal(r.status, 415);
      assert.equal((await connectRaw("GenerateToken", "{}", "text/plain")).status, 415);
    });

    it("a body over the 64 KiB limit is resource_exhausted", async () => {
      const r = await connectRaw("GenerateToken", JSON.stringify({ clusterId: "a".repeat(70 * 1024) }));
      assert.equal(r.code, "resource_exhausted");
      assert.equal(r.status, 429);
      assert.match(r.message, /65536/);
    });

    it("an unknown enum name is invalid_argument, and an unknown number is too", async () => {
      const byName = await connectRaw("GetKubeconfig", JSON.stringify({ clusterId: "demo-eks", mode: "KUBECONFIG_MODE_BOGUS" }));
      assert.deepEqual([byName.status, byName.code], [400, "invalid_argument"]);
      const byNumber = await connectRaw("GetKubeconfig", JSON.stringify({ clusterId: "demo-eks", mode: 99 }));
      assert.deepEqual([byNumber.status, byNumber.code, byNumber.reason], [400, "invalid_argument", "UNSUPPORTED_KUBECONFIG_MODE"]);
    });

    it("an empty or 10 KB cluster id is invalid_argument with a short message", async () => {
      const empty = await connectRaw("GenerateToken", "{}");
      assert.deepEqual([empty.status, empty.reason], [400, "INVALID_CLUSTER_ID"]);
      assert.equal(empty.message, "cluster_id is required");
      const long = await connectRaw("GenerateToken", JSON.stringify({ clusterId: "x".repeat(10 * 1024) }));
      assert.deepEqual([long.status, long.reason], [400, "INVALID_CLUSTER_ID"]);
      assert.ok(long.message.length < 100);
    });

    it("invalid UTF-8 is invalid_argument, in JSON and in binary", async () => {
      const json = Buffer.concat([Buffer.from('{"clusterId":"demo'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
      const r = await connectRaw("GenerateToken", json);
      assert.deepEqual([r.status, r.code], [400, "invalid_argument"]);
      const proto = Buffer.from([0x0a, 0x04, 0x64, 0x65, 0xff, 0xfe]);
      const b = await fetch(`${svc.httpUrl}/${service}/GenerateToken`, {
        method: "POST",
        headers: { "content-type": "application/proto" },
        body: proto,
      });
      assert.equal(b.status, 400);
      const body = (await b.json()) as { code: string; details: { debug: { reason: string } }[] };
      assert.deepEqual([body.code, body.details[0]!.debug.reason], ["invalid_argument", "MALFORMED_REQUEST"]);
    });

    it("undecodable gRPC-Web frames are INVALID_ARGUMENT, and so are truncated ones", async () => {
      const frame = (payload: number[]) => Buffer.from([0, 0, 0, 0, payload.length, ...payload]);
      for (const body of [frame([0x0a, 0x04, 0x64, 0x65, 0xff, 0xfe]), frame([0x0a, 0xff, 0x01, 0x61])]) {
        const res = await fetch(`${svc.httpUrl}/${service}/GenerateToken`, {
          method: "POST",
          headers: { "content-type": "application/grpc-web+proto" },
          body,
        });
        const trailer = Buffer.from(await res.arrayBuffer()).toString("latin1");
        assert.match(trailer, /grpc-status: ?3\r\n/i, trailer);
      }
      const truncated = await fetch(`${svc.httpUrl}/${service}/GenerateToken`, {
        method: "POST",
        headers: { "content-type": "application/grpc-web+proto" },
        body: Buffer.from([0, 0, 0, 0, 9, 0x0a]),
      });
      assert.match(Buffer.from(await truncated.arrayBuffer()).toString("latin1"), /grpc-status: ?3\r\n/i);
    });

    it("a compressed request is unimplemented; a compressed gRPC-Web frame without an encoding is INTERNAL, as the gRPC spec requires", async () => {
      const gz = await fetch(`${svc.httpUrl}/${service}/GenerateToken`, {
        method: "POST",
        headers: { "content-type": "application/proto", "content-encoding": "gzip" },
        body: gzipSync(Buffer.from([0x0a, 0x04, 0x64, 0x65, 0xff, 0xfe])),
      });
      assert.equal(gz.status, 501);
      assert.equal(((await gz.json()) as { code: string }).code, "unimplemented");
      const flagged = await fetch(`${svc.httpUrl}/${service}/GenerateToken`, {
        method: "POST",
        headers: { "content-type": "application/grpc-web+proto" },
        body: Buffer.from([1, 0, 0, 0, 3, 0x61, 0x62, 0x63]),
      });
      assert.match(Buffer.from(await flagged.arrayBuffer()).toString("latin1"), /grpc-status: ?13\r\n/i);
    });

    it("unknown JSON fields are rejected, not silently dropped", async () => {
      const r = await connectRaw("GetKubeconfig", JSON.stringify({ clusterId: "demo-eks", kubeconfigMode: "EXEC" }));
      assert.deepEqual([r.status, r.code], [400, "invalid_argument"]);
    });

    it("a GET of a method with no side effects needs a valid message, too", async () => {
      const res = await fetch(`${svc.httpUrl}/${service}/GenerateToken?encoding=json&message=${encodeURIComponent("{not json")}`);
      assert.equal(res.status, 400);
      for (const bytes of [
        [0x0a, 0x04, 0x64, 0x65, 0xff, 0xfe],
        [0x0a, 0x04],
      ]) {
        const message = Buffer.from(bytes).toString("base64url");
        const proto = await fetch(`${svc.httpUrl}/${service}/GenerateToken?encoding=proto&base64=1&message=${message}`);
        const body = (await proto.json()) as { code: string; details: { debug: { reason: string } }[] };
        assert.deepEqual([proto.status, body.code, body.details[0]!.debug.reason], [400, "invalid_argument", "MALFORMED_REQUEST"]);
      }
      const valid = Buffer.from([0x0a, 0x08, ...Buffer.from("demo-eks")]).toString("base64url");
      assert.equal((await fetch(`${svc.httpUrl}/${service}/GenerateToken?encoding=proto&base64=1&message=${valid}`)).status, 200);
      const unknown = await fetch(`${svc.httpUrl}/${service}/NoSuchMethod`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      assert.equal(unknown.status, 404);
    });
  });

  describe("on the gRPC listener", () => {
    it("undecodable protobuf is INVALID_ARGUMENT with MALFORMED_REQUEST", async () => {
      const truncated = await grpcRaw("GenerateToken", Buffer.from([0x0a, 0xff, 0x01, 0x61]));
      assert.deepEqual([truncated.code, truncated.reason], [grpc.status.INVALID_ARGUMENT, "MALFORMED_REQUEST"]);
      assert.equal(truncated.details, "the request is not a valid clustertoken.v1.GenerateTokenRequest message");
      const badWireType = await grpcRaw("GenerateToken", Buffer.from([0x0f, 0x01, 0x02]));
      assert.equal(badWireType.code, grpc.status.INVALID_ARGUMENT);
    });

    it("invalid UTF-8 in a string field is INVALID_ARGUMENT", async () => {
      const r = await grpcRaw("GenerateToken", Buffer.from([0x0a, 0x04, 0x64, 0x65, 0xff, 0xfe]));
      assert.deepEqual([r.code, r.reason], [grpc.status.INVALID_ARGUMENT, "MALFORMED_REQUEST"]);
    });

    it("a wrong compression flag or undecompressable frame gets a clear status", async () => {
      const call = async (frame: Buffer, encoding?: string) =>
        (await rawGrpcRequest(svc.grpcUrl, `/${service}/GenerateToken`, frame, encoding ? { "grpc-encoding": encoding } : {})).status;
      // A Compressed-Flag under identity encoding is INTERNAL, as the gRPC compression spec says, even for a valid message.
      assert.equal(await call(Buffer.from([1, 0, 0, 0, 3, 0x61, 0x62, 0x63])), String(grpc.status.INTERNAL));
      const valid = Buffer.from(toBinary(GenerateTokenRequestSchema, create(GenerateTokenRequestSchema, { clusterId: "demo-eks" })));
      const issuedBefore = (await svc.audit()).filter((l) => l.outcome === "issued").length;
      const flagged = Buffer.concat([Buffer.from([1, 0, 0, 0, valid.length]), valid]);
      assert.equal(await call(flagged), String(grpc.status.INTERNAL));
      assert.equal(await call(flagged, "identity"), String(grpc.status.INTERNAL));
      assert.equal((await svc.audit()).filter((l) => l.outcome === "issued").length, issuedBefore, "nothing was issued");
      // Declared gzip, but not gzip: grpc-js answers INTERNAL, as the gRPC compression spec has it.
      assert.equal(await call(Buffer.from([1, 0, 0, 0, 3, 0x61, 0x62, 0x63]), "gzip"), String(grpc.status.INTERNAL));
    });

    it("a message over the 64 KiB limit is RESOURCE_EXHAUSTED", async () => {
      const big = Buffer.from(
        toBinary(GenerateTokenRequestSchema, create(GenerateTokenRequestSchema, { clusterId: "a".repeat(70 * 1024) })),
      );
      const r = await grpcRaw("GenerateToken", big);
      assert.equal(r.code, grpc.status.RESOURCE_EXHAUSTED);
    });

    it("an unknown enum number and a 10 KB id are INVALID_ARGUMENT", async () => {
      const mode = await grpcRaw(
        "GetKubeconfig",
        Buffer.from(
          toBinary(GetKubeconfigRequestSchema, create(GetKubeconfigRequestSchema, { clusterId: "demo-eks", mode: 42 as KubeconfigMode })),
        ),
      );
      assert.deepEqual([mode.code, mode.reason], [grpc.status.INVALID_ARGUMENT, "UNSUPPORTED_KUBECONFIG_MODE"]);
      const long = await grpcRaw(
        "GenerateToken",
        Buffer.from(toBinary(GenerateTokenRequestSchema, create(GenerateTokenRequestSchema, { clusterId: "x".repeat(10 * 1024) }))),
      );
      assert.deepEqual([long.code, long.reason], [grpc.status.INVALID_ARGUMENT, "INVALID_CLUSTER_ID"]);
    });

    it("an unknown method is UNIMPLEMENTED", async () => {
      assert.equal((await grpcRaw("NoSuchMethod", Buffer.alloc(0))).code, grpc.status.UNIMPLEMENTED);
    });
  });

  it("keeps serving afterwards, on both listeners", async () => {
    const health = await new Promise<Buffer>((resolve, reject) =>
      grpcClient.makeUnaryRequest(
        "/grpc.health.v1.Health/Check",
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
        (err, res) => (err ? reject(err) : resolve(res!)),
      ),
    );
    assert.deepEqual([...health], [0x08, 0x01], "HealthCheckResponse{status: SERVING}");
    assert.match((await svc.grpc.generateToken({ clusterId: "demo-eks" })).status!.token, /^k8s-aws-v1\./);
    assert.match((await svc.connect.generateToken({ clusterId: "demo-eks" })).status!.token, /^k8s-aws-v1\./);
    assert.equal(svc.logs.records().filter((r) => r.level === "error").length, 0, "no bad input is logged as a server error");
  });
});
