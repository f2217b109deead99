import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { after, before, describe, it } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { ClusterTokenService } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { expectError } from "../support/error-info.js";
import { createSecureFixture, type SecureFixture, secureRawConfig } from "../support/secure-fixture.js";
import { type ServeProcess, startServeProcess } from "../support/serve-process.js";
import { rawTestConfig, testAwsEnv } from "../support/test-config.js";

const portOf = (address: string) => address.slice(address.lastIndexOf(":") + 1);
const expectedMessage = (grpcAddress: string) =>
  `this port serves Connect and gRPC-Web over HTTP/1.1; send gRPC to port ${portOf(grpcAddress)} (listen.grpc)`;

/** One unary call with grpc-js's own client: the status code and message it reports. */
function grpcJsCall(
  address: string,
  credentials: grpc.ChannelCredentials,
): Promise<{ code: number | undefined; details: string | undefined }> {
  // Node 26 refuses an IP address as the TLS server name, which grpc-js takes from the target: name the certificate's host.
  const client = new grpc.Client(address, credentials, { "grpc.ssl_target_name_override": "localhost" });
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      "/clustertoken.v1.ClusterTokenService/ListClusters",
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      { deadline: Date.now() + 10_000 },
      (err) => {
        client.close();
        resolve({ code: err?.code, details: err?.details });
      },
    );
  });
}

/** How long until the server closes a connection that sent `bytes` and then nothing, in ms. */
function closedAfter(address: string, bytes: string): Promise<number> {
  const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(portOf(address))];
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = netConnect(port, host, () => socket.write(bytes));
    socket.on("error", () => {});
    socket.on("close", () => resolve(performance.now() - started));
  });
}

describe("gRPC sent to the Connect port, plaintext, on the real process", () => {
  let svc: ServeProcess;
  before(async () => {
    svc = await startServeProcess({ ...rawTestConfig(), limits: { headersTimeoutSeconds: 1 } }, { env: testAwsEnv });
  });
  after(async () => {
    svc?.child.kill("SIGTERM");
    await svc?.exited();
  });

  it("answers a gRPC client (HTTP/2 with prior knowledge) UNIMPLEMENTED, naming the gRPC port", async () => {
    const client = createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${svc.http}` }));
    const { error, info } = await expectError(client.listClusters({}), Code.Unimplemented);
    assert.equal(error.rawMessage, expectedMessage(svc.grpc));
    assert.deepEqual([info.reason, info.metadata.grpc_port], ["GRPC_ON_HTTP_PORT", portOf(svc.grpc)]);
    // grpc-js's own client decodes grpc-message less than Connect does: it must read as plainly.
    assert.deepEqual(await grpcJsCall(svc.http, grpc.credentials.createInsecure()), {
      code: grpc.status.UNIMPLEMENTED,
      details: expectedMessage(svc.grpc),
    });
  });

  it("answers gRPC over HTTP/1.1 in gRPC's form, and closes the connection without reading the rest", async () => {
    const answer = await new Promise<{ status: number | undefined; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const req = httpRequest(`http://${svc.http}/clustertoken.v1.ClusterTokenService/GenerateToken`, {
        method: "POST",
        headers: { "content-type": "application/grpc+proto", te: "trailers", "x-request-id": "wrong-port-1" },
      });
      req.on("response", (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
      });
      req.on("error", reject);
      // A body that would never end: the answer does not wait for it.
      req.write(Buffer.alloc(1024));
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers["content-type"], "application/grpc+proto");
    assert.equal(answer.headers["grpc-status"], "12");
    assert.equal(decodeURI(String(answer.headers["grpc-message"])), expectedMessage(svc.grpc), "as grpc-js decodes it");
    assert.ok(typeof answer.headers["grpc-status-details-bin"] === "string");
    assert.equal(answer.headers.connection, "close");
    assert.equal(answer.headers["x-request-id"], "wrong-port-1");
    assert.equal(answer.body, "");
  });

  it("serves Connect and gRPC-Web on the same port as before, around a wrong-port gRPC client", async () => {
    const wrong = createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${svc.http}` }));
    await expectError(wrong.generateToken({ clusterId: "demo-eks" }), Code.Unimplemented);
    for (const transport of [
      createConnectTransport({ baseUrl: `http://${svc.http}`, httpVersion: "1.1" }),
      createGrpcWebTransport({ baseUrl: `http://${svc.http}`, httpVersion: "1.1" }),
    ]) {
      const { clusters } = await createClient(ClusterTokenService, transport).listClusters({});
      assert.ok(clusters.some((cluster) => cluster.id === "demo-eks"));
    }
    const get = await fetch(
      `http://${svc.http}/clustertoken.v1.ClusterTokenService/ListClusters?encoding=json&message=${encodeURIComponent("{}")}`,
    );
    assert.equal(get.status, 200);
  });

  it("closes a connection that sends nothing, or only the start of a preface, by limits.headersTimeoutSeconds", async () => {
    for (const bytes of ["", "PRI * HTTP/2"]) {
      const ms = await closedAfter(svc.http, bytes);
      assert.ok(ms >= 900 && ms < 5_000, `${JSON.stringify(bytes)}: closed after ${ms} ms`);
    }
  });
});

describe("gRPC sent to the Connect port, TLS, on the real process", () => {
  let f: SecureFixture;
  let svc: ServeProcess;
  before(async () => {
    f = await createSecureFixture();
    svc = await startServeProcess(secureRawConfig(f, { mtls: false }), { env: testAwsEnv });
  });
  after(async () => {
    svc?.child.kill("SIGTERM");
    await svc?.exited();
  });

  it("answers a gRPC client, which offers only h2 by ALPN, UNIMPLEMENTED, naming the gRPC port", async () => {
    const client = createClient(
      ClusterTokenService,
      createGrpcTransport({ baseUrl: `https://${svc.http}`, nodeOptions: { ca: f.pki.ca.cert } }),
    );
    const { error, info } = await expectError(client.listClusters({}), Code.Unimplemented);
    assert.equal(error.rawMessage, expectedMessage(svc.grpc));
    assert.equal(info.reason, "GRPC_ON_HTTP_PORT");
    assert.deepEqual(await grpcJsCall(svc.http, grpc.credentials.createSsl(f.pki.ca.cert)), {
      code: grpc.status.UNIMPLEMENTED,
      details: expectedMessage(svc.grpc),
    });
  });

  it("chooses HTTP/1.1 for every client that offers it, and refuses one that offers only what it does not speak", async () => {
    const alpn = (offer: string[] | undefined) =>
      new Promise<string | false | null | undefined>((resolve) => {
        const [host, port] = [svc.http.slice(0, svc.http.lastIndexOf(":")), Number(portOf(svc.http))];
        const socket = tlsConnect(
          { host, port, ca: f.pki.ca.cert, servername: "localhost", ...(offer ? { ALPNProtocols: offer } : {}) },
          () => {
            resolve(socket.alpnProtocol);
            socket.destroy();
          },
        );
        socket.on("error", () => resolve(undefined));
      });
    assert.equal(await alpn(["h2", "http/1.1"]), "http/1.1", "curl and browsers keep HTTP/1.1");
    assert.equal(await alpn(["http/1.1"]), "http/1.1");
    assert.equal(await alpn(undefined), false, "no ALPN, as before");
    assert.equal(await alpn(["h2"]), "h2");
    assert.equal(await alpn(["spdy/3"]), undefined, "RFC 7301's no_application_protocol");
  });
});
