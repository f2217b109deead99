import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { fromBinary, toBinary, create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import * as grpc from "@grpc/grpc-js";
import { parse } from "yaml";
import { GenerateTokenRequestSchema, GenerateTokenResponseSchema } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { verifyEksToken } from "../fakes/eks-token-verifier.js";
import { expectError } from "../support/error-info.js";
import { startTestService, type RunningService } from "../support/running-service.js";
import { testAwsKeys, testConfig, rawTestConfig } from "../support/test-config.js";

const run = promisify(execFile);
const keys = new Map([[testAwsKeys.accessKeyId, { secretAccessKey: testAwsKeys.secretAccessKey }]]);
const clients = ["connect", "grpcWeb", "grpc"] as const;

describe("ClusterTokenService over the wire", () => {
  let svc: RunningService;
  before(async () => {
    svc = await startTestService();
  });
  after(() => svc.close());

  for (const client of clients) {
    it(`${client}: GenerateToken returns a verifiable EKS token with its expiry`, async () => {
      const response = await svc[client].generateToken({ clusterId: "demo-eks" });
      assert.equal(response.kind, "ExecCredential");
      assert.equal(response.apiVersion, "client.authentication.k8s.io/v1");
      const token = response.status!.token;
      assert.deepEqual(verifyEksToken(token, { clusterName: "demo", region: "us-west-2", keys }), {
        ok: true,
        identity: testAwsKeys.accessKeyId,
      });
      const expiry = timestampDate(response.status!.expirationTimestamp!).getTime();
      assert.ok(expiry > Date.now() + 13 * 60_000 && expiry <= Date.now() + 14 * 60_000);
    });

    it(`${client}: a reused token answers each apiVersion with its own ExecCredential, and the same bytes each time`, async () => {
      const v1 = "client.authentication.k8s.io/v1";
      const beta = "client.authentication.k8s.io/v1beta1";
      // Interleaved, so that a response (or, over gRPC, an encoding) kept for one version would show up in the other.
      const answers = [];
      for (const apiVersion of [v1, beta, v1, beta]) answers.push(await svc[client].generateToken({ clusterId: "demo-eks", apiVersion }));
      assert.deepEqual(
        answers.map((a) => a.apiVersion),
        [v1, beta, v1, beta],
      );
      assert.equal(new Set(answers.map((a) => a.status!.token)).size, 1, "the cached token is reused");
      const bytes = answers.map((a) => Buffer.from(toBinary(GenerateTokenResponseSchema, a)).toString("base64"));
      assert.equal(bytes[0], bytes[2]);
      assert.equal(bytes[1], bytes[3]);
      assert.notEqual(bytes[0], bytes[1]);
    });

    it(`${client}: GetKubeconfig and ListClusters work`, async () => {
      const { kubeconfig, expirationTimestamp } = await svc[client].getKubeconfig({ clusterId: "demo-eks" });
      assert.ok(expirationTimestamp);
      const doc = parse(kubeconfig) as { "current-context": string; users: { user: { token: string } }[] };
      assert.equal(doc["current-context"], "demo-eks");
      assert.equal(verifyEksToken(doc.users[0]!.user.token, { clusterName: "demo", region: "us-west-2", keys }).ok, true);
      const { clusters } = await svc[client].listClusters({});
      assert.deepEqual(
        clusters.map((c) => c.id),
        ["demo-eks", "no-endpoint"],
      );
    });

    it(`${client}: errors carry the same code and ErrorInfo`, async () => {
      const notFound = await expectError(svc[client].generateToken({ clusterId: "nope" }), Code.NotFound);
      assert.equal(notFound.info.reason, "CLUSTER_NOT_FOUND");
      assert.deepEqual(notFound.info.metadata, { cluster_id: "nope" });
      assert.equal(notFound.error.rawMessage, "cluster nope is not registered");
      const invalid = await expectError(svc[client].generateToken({ clusterId: "" }), Code.InvalidArgument);
      assert.equal(invalid.info.reason, "INVALID_CLUSTER_ID");
      assert.deepEqual(invalid.info.metadata, { field: "cluster_id" });
      const unavailable = await expectError(svc[client].getKubeconfig({ clusterId: "no-endpoint" }), Code.Unavailable);
      assert.equal(unavailable.info.reason, "UPSTREAM_UNREACHABLE");
      assert.deepEqual(unavailable.info.metadata, { provider: "aws", operation: "eks:DescribeCluster", cluster_id: "no-endpoint" });
    });
  }

  it("Connect JSON POST answers exactly a Kubernetes ExecCredential", async () => {
    const res = await fetch(`${svc.httpUrl}/clustertoken.v1.ClusterTokenService/GenerateToken`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ clusterId: "demo-eks" }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    const text = await res.text();
    assert.match(
      text,
      /^\{"apiVersion":"client\.authentication\.k8s\.io\/v1","kind":"ExecCredential","status":\{"token":"k8s-aws-v1\.[A-Za-z0-9_-]+","expirationTimestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"\}\}$/,
    );
  });

  it("Connect GET works for the NO_SIDE_EFFECTS methods and echoes v1beta1", async () => {
    const message = encodeURIComponent(JSON.stringify({ clusterId: "demo-eks", apiVersion: "client.authentication.k8s.io/v1beta1" }));
    const res = await fetch(`${svc.httpUrl}/clustertoken.v1.ClusterTokenService/GenerateToken?encoding=json&message=${message}`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { apiVersion: string; status: { token: string } };
    assert.equal(body.apiVersion, "client.authentication.k8s.io/v1beta1");
    assert.match(body.status.token, /^k8s-aws-v1\./);
    const list = await fetch(`${svc.httpUrl}/clustertoken.v1.ClusterTokenService/ListClusters?encoding=json&message=%7B%7D`);
    assert.equal(list.status, 200);
  });

  it("maps codes to Connect's HTTP statuses, with the ErrorInfo in the JSON body", async () => {
    const cases: [unknown, number, string][] = [
      [{ clusterId: "nope" }, 404, "not_found"],
      [{ clusterId: "" }, 400, "invalid_argument"],
      [{ clusterId: "demo-eks", apiVersion: "v2" }, 400, "invalid_argument"],
    ];
    for (const [body, status, code] of cases) {
      const res = await fetch(`${svc.httpUrl}/clustertoken.v1.ClusterTokenService/GenerateToken`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, status);
      const json = (await res.json()) as { code: string; details: { type: string }[] };
      assert.equal(json.code, code);
      assert.deepEqual(
        json.details.map((d) => d.type),
        ["google.rpc.ErrorInfo"],
      );
    }
  });

  it("a native grpc-js client receives the ErrorInfo in grpc-status-details-bin", async () => {
    const client = new grpc.Client(svc.server.grpcAddress, grpc.credentials.createInsecure());
    try {
      const error = await new Promise<grpc.ServiceError>((resolve, reject) =>
        client.makeUnaryRequest(
          "/clustertoken.v1.ClusterTokenService/GenerateToken",
          (m: unknown) => Buffer.from(toBinary(GenerateTokenRequestSchema, m as never)),
          (b: Buffer) => fromBinary(GenerateTokenResponseSchema, b),
          create(GenerateTokenRequestSchema, { clusterId: "missing" }),
          (err) => (err ? resolve(err) : reject(new Error("expected an error"))),
        ),
      );
      assert.equal(error.code, grpc.status.NOT_FOUND);
      assert.equal(error.details, "cluster missing is not registered");
      const detailsBin = error.metadata.get("grpc-status-details-bin")[0] as Buffer;
      const parsed = findTrailerError(new Headers({ "grpc-status": "5", "grpc-status-details-bin": detailsBin.toString("base64") }));
      assert.equal(parsed?.findDetails(ErrorInfoSchema)[0]?.reason, "CLUSTER_NOT_FOUND");
    } finally {
      client.close();
    }
  });

  it("echoes a caller's x-request-id on both transports and logs it, and generates one otherwise", async () => {
    const res = await fetch(`${svc.httpUrl}/clustertoken.v1.ClusterTokenService/ListClusters`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "req-abc.123" },
      body: "{}",
    });
    assert.equal(res.headers.get("x-request-id"), "req-abc.123");
    const generated = await fetch(`${svc.httpUrl}/clustertoken.v1.ClusterTokenService/ListClusters`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "bad id\twith spaces" },
      body: "{}",
    });
    assert.match(generated.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    let header: string | undefined;
    await svc.grpc.listClusters(
      {},
      { headers: { "x-request-id": "grpc-req-1" }, onHeader: (h) => (header = h.get("x-request-id") ?? undefined) },
    );
    assert.equal(header, "grpc-req-1");
    const logged = svc.logs
      .records()
      .filter((r) => r.msg === "rpc")
      .map((r) => [r.requestId, r.transport, r.rpc]);
    assert.deepEqual(
      logged.filter(([id]) => id === "req-abc.123" || id === "grpc-req-1"),
      [
        ["req-abc.123", "connect", "ListClusters"],
        ["grpc-req-1", "grpc", "ListClusters"],
      ],
    );
  });

  it("serves a kubeconfig that `kubectl config view` accepts", async () => {
    const { kubeconfig } = await svc.connect.getKubeconfig({ clusterId: "demo-eks" });
    const file = join(await mkdtemp(join(tmpdir(), "cts-kubeconfig-")), "config");
    await writeFile(file, kubeconfig, { mode: 0o600 });
    const { stdout } = await run("kubectl", ["config", "view", "--kubeconfig", file, "--raw", "-o", "json"]);
    const view = JSON.parse(stdout) as {
      "current-context": string;
      clusters: { name: string; cluster: { server: string } }[];
      users: { name: string; user: { token: string } }[];
    };
    assert.equal(view["current-context"], "demo-eks");
    assert.equal(view.clusters[0]!.cluster.server, "https://ABCDEF.gr7.us-west-2.eks.amazonaws.com");
    assert.match(view.users[0]!.user.token, /^k8s-aws-v1\./);
    const { stdout: context } = await run("kubectl", ["config", "current-context", "--kubeconfig", file]);
    assert.equal(context.trim(), "demo-eks");
  });
});

describe("credentials that cannot be resolved", () => {
  it("answer FAILED_PRECONDITION on every transport, naming the reference and not the secret", async () => {
    const raw = rawTestConfig() as { credentials: Record<string, Record<string, unknown>> };
    raw.credentials["aws-test"]!.secretAccessKey = { env: "CTS_TEST_DEFINITELY_UNSET" };
    const svc = await startTestService(testConfig(raw));
    try {
      for (const client of clients) {
        const { error, info } = await expectError(svc[client].generateToken({ clusterId: "demo-eks" }), Code.FailedPrecondition);
        assert.equal(info.reason, "SECRET_UNRESOLVABLE");
        assert.match(error.rawMessage, /env CTS_TEST_DEFINITELY_UNSET\) is not set/);
        assert.doesNotMatch(error.rawMessage, new RegExp(testAwsKeys.accessKeyId));
      }
      assert.doesNotMatch(svc.logs.text(), new RegExp(testAwsKeys.accessKeyId));
    } finally {
      await svc.close();
    }
  });
});
