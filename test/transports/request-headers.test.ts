import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { ClusterTokenService } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { Authenticator } from "../../src/auth/authenticator.js";
import type { ServiceHandlers } from "../../src/core/service-handlers.js";
import { authenticate } from "../../src/pipeline/authenticate.js";
import { createCallRunner } from "../../src/pipeline/call-runner.js";
import { defineLink } from "../../src/pipeline/link.js";
import { createConnectHandler } from "../../src/transports/connect-transport.js";
import { addGrpcService } from "../../src/transports/grpc-transport.js";

const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/**
 * Request metadata reaches the pipeline the same way on every protocol: a link that
 * reads it (as a tracing link would read `traceparent`) is written once and listed,
 * and needs nothing of either transport.
 */
describe("request headers on the call", () => {
  const seen: Record<string, string | undefined>[] = [];
  const traceLink = defineLink({
    name: "trace",
    wrap: (next) => (invocation) => {
      const { headers, transport } = invocation.call;
      seen.push({ transport, traceparent: headers.get("traceparent"), bin: headers.get("x-trace-bin"), absent: headers.get("x-absent") });
      return next(invocation);
    },
  });
  const handlers = {
    generateToken: async () => ({ response: {}, facts: {} }),
    getKubeconfig: async () => ({ response: {}, facts: {} }),
    listClusters: async () => ({ response: { clusters: [] }, facts: {} }),
  } as unknown as ServiceHandlers<typeof ClusterTokenService>;
  const invoke = createCallRunner(ClusterTokenService, handlers, {
    links: [traceLink, authenticate(Authenticator.none())],
    maxCallMs: 5_000,
  });
  let grpcServer: grpc.Server;
  let httpServer: Server;
  let grpcUrl: string;
  let httpUrl: string;

  before(async () => {
    grpcServer = new grpc.Server();
    addGrpcService(grpcServer, ClusterTokenService, invoke);
    const port = await new Promise<number>((resolve, reject) =>
      grpcServer.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    grpcUrl = `http://127.0.0.1:${port}`;
    httpServer = createServer(createConnectHandler(ClusterTokenService, invoke, { readMaxBytes: 64 * 1024 }));
    await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
    httpUrl = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  });
  after(async () => {
    grpcServer.forceShutdown();
    await new Promise((resolve) => httpServer.close(resolve));
  });

  const clients = {
    grpc: () => createClient(ClusterTokenService, createGrpcTransport({ baseUrl: grpcUrl })),
    connect: () => createClient(ClusterTokenService, createConnectTransport({ baseUrl: httpUrl, httpVersion: "1.1" })),
    grpcWeb: () => createClient(ClusterTokenService, createGrpcWebTransport({ baseUrl: httpUrl, httpVersion: "1.1" })),
  };
  for (const [protocol, client] of Object.entries(clients)) {
    it(`${protocol}: a link reads the trace context and binary metadata the caller sent`, async () => {
      seen.length = 0;
      // Binary metadata travels base64-encoded; the view gives it so on every protocol.
      await client().listClusters({}, { headers: { traceparent, "x-trace-bin": Buffer.from([1, 2, 3]).toString("base64") } });
      assert.deepEqual(seen, [{ transport: protocol === "grpc" ? "grpc" : "connect", traceparent, bin: "AQID", absent: undefined }]);
    });
  }
});
