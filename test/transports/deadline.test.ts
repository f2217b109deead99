import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { ClusterTokenService, GenerateTokenRequestSchema } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { addGrpcService } from "../../src/transports/grpc-transport.js";
import { startFakeSts, type FakeSts } from "../fakes/fake-sts.js";
import { grpcFrame, rawGrpcRequest } from "../support/raw-grpc.js";
import { startTestService, type RunningService } from "../support/running-service.js";
import { rawTestConfig, testAwsKeys, testConfig } from "../support/test-config.js";

const roleArn = "arn:aws:iam::123456789012:role/slow";
const path = "/clustertoken.v1.ClusterTokenService/GenerateToken";

/** A gRPC GenerateToken over raw HTTP/2: unlike a client library, it does not hang up at its deadline, so the server must enforce it. */
function rawGrpcCall(url: string, timeout: string) {
  const message = toBinary(GenerateTokenRequestSchema, create(GenerateTokenRequestSchema, { clusterId: "demo-eks" }));
  return rawGrpcRequest(url, path, grpcFrame(message), { "grpc-timeout": timeout });
}

describe("the caller's deadline", () => {
  let sts: FakeSts;
  let svc: RunningService;
  before(async () => {
    sts = await startFakeSts({
      keys: { [testAwsKeys.accessKeyId]: { secretAccessKey: testAwsKeys.secretAccessKey } },
      roles: { [roleArn]: { trustedKeys: [testAwsKeys.accessKeyId] } },
    });
    const raw = rawTestConfig() as { credentials: Record<string, Record<string, unknown>> };
    Object.assign(raw.credentials["aws-test"]!, { roleArn, stsEndpoint: sts.url });
    svc = await startTestService(testConfig(raw));
  });
  after(async () => {
    await svc.close();
    await sts.close();
  });

  it("Connect: connect-timeout-ms is enforced by the server: 504 deadline_exceeded with ErrorInfo, at the deadline", async () => {
    sts.fault = { hold: true }; // STS answers only once released: the deadline is all that can end the call
    try {
      const started = Date.now();
      const res = await fetch(`${svc.httpUrl}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "connect-timeout-ms": "300" },
        body: '{"clusterId":"demo-eks"}',
      });
      const elapsed = Date.now() - started;
      const body = (await res.json()) as { code: string; details: { debug: { reason: string } }[] };
      assert.equal(res.status, 504);
      assert.equal(body.code, "deadline_exceeded");
      assert.equal(body.details[0]!.debug.reason, "DEADLINE_EXCEEDED");
      assert.ok(elapsed >= 280 && elapsed < 2000, `answered after ${elapsed} ms`);
    } finally {
      sts.fault = undefined;
      await sts.release();
    }
  });

  it("gRPC: grpc-timeout is enforced by the server: DEADLINE_EXCEEDED at the deadline", async () => {
    sts.fault = { hold: true };
    try {
      const { status, ms } = await rawGrpcCall(svc.grpcUrl, "300m");
      assert.equal(status, "4");
      assert.ok(ms >= 280 && ms < 2000, `answered after ${ms} ms`);
    } finally {
      sts.fault = undefined;
      await sts.release();
    }
  });

  it("keeps serving afterwards", async () => {
    for (const client of [svc.connect, svc.grpc]) {
      const ok = await client.generateToken({ clusterId: "demo-eks" }, { timeoutMs: 10_000 });
      assert.match(ok.status!.token, /^k8s-aws-v1\./);
    }
    assert.equal((await rawGrpcCall(svc.grpcUrl, "10S")).status, "0");
  });
});

describe("the gRPC transport at a deadline", () => {
  it("answers with the call's x-request-id when grpc-js ends a call at its deadline by itself", async () => {
    // An invoker that never answers: the only answer is grpc-js's own DEADLINE_EXCEEDED.
    const server = new grpc.Server();
    addGrpcService(server, ClusterTokenService, () => new Promise(() => {}));
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    try {
      const message = toBinary(GenerateTokenRequestSchema, create(GenerateTokenRequestSchema, { clusterId: "demo-eks" }));
      const answer = await rawGrpcRequest(`http://127.0.0.1:${port}`, path, grpcFrame(message), {
        "grpc-timeout": "200m",
        "x-request-id": "deadline-1",
      });
      assert.equal(answer.status, "4");
      assert.equal(answer.requestId, "deadline-1");
      // Without a deadline, the headers wait for the answer: a call answered at once still gets them.
      const quick = new grpc.Server();
      addGrpcService(quick, ClusterTokenService, async () => ({ clusters: [] }) as never);
      const quickPort = await new Promise<number>((resolve, reject) =>
        quick.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
      );
      try {
        const listed = await rawGrpcRequest(
          `http://127.0.0.1:${quickPort}`,
          "/clustertoken.v1.ClusterTokenService/ListClusters",
          grpcFrame(new Uint8Array()),
          {
            "x-request-id": "quick-1",
          },
        );
        assert.equal(listed.status, "0");
        assert.equal(listed.requestId, "quick-1");
      } finally {
        quick.forceShutdown();
      }
    } finally {
      server.forceShutdown();
    }
  });
});
