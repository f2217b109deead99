import type { Socket } from "node:net";
import { Agent } from "node:https";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { ClusterTokenService } from "../gen/clustertoken/v1/cluster_token_service_pb.js";
import { mintEksToken } from "../src/drivers/aws/eks-token.js";
import { benchAwsKeys, percentile, type ServerProcess } from "./server-process.js";

/** The in-process cost of presigning one EKS token. */
export async function benchMint(n = 20_000): Promise<string> {
  const input = () => ({ credentials: benchAwsKeys, region: "us-west-2", clusterName: "demo", now: new Date() });
  for (let i = 0; i < 2000; i++) await mintEksToken(input());
  const started = performance.now();
  for (let i = 0; i < n; i++) await mintEksToken(input());
  const ms = performance.now() - started;
  return `| mintEksToken, in-process | ${Math.round(n / (ms / 1000)).toLocaleString("en-US")} tokens/s | ${((ms * 1000) / n).toFixed(1)} µs per token | | |`;
}

async function load(name: string, call: () => Promise<unknown>, requests: number, concurrency: number): Promise<string> {
  for (let i = 0; i < 500; i++) await call();
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < requests) {
        const t = performance.now();
        await call();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return `| GenerateToken, ${name} | ${Math.round(requests / seconds).toLocaleString("en-US")} req/s | p50 ${percentile(latencies, 50).toFixed(2)} ms | p99 ${percentile(latencies, 99).toFixed(2)} ms | ${concurrency} in flight |`;
}

/**
 * connect-node's HTTP/1.1 client flushes the request headers before the body; over TLS
 * with Nagle's algorithm on, the body then waits for the server's delayed ACK (about
 * 40 ms a request). This agent turns Nagle off, as curl and Node's own plain-HTTP
 * sockets do.
 */
class NoDelayAgent extends Agent {
  override createConnection(...args: Parameters<Agent["createConnection"]>): Socket {
    const socket = super.createConnection(...args) as Socket;
    socket.setNoDelay(true);
    return socket;
  }
}

/** GenerateToken over the wire, on both transports, against the server process. */
export async function benchThroughput(
  server: ServerProcess,
  requests = Number(process.env.BENCH_REQUESTS ?? 6000),
  concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16),
): Promise<string[]> {
  const headers = { authorization: `Bearer ${server.apiKey}` };
  const connect = createClient(
    ClusterTokenService,
    createConnectTransport({
      baseUrl: `https://${server.http}`,
      httpVersion: "1.1",
      nodeOptions: { agent: new NoDelayAgent({ ca: server.ca, keepAlive: true }) },
    }),
  );
  const grpc = createClient(
    ClusterTokenService,
    createGrpcTransport({ baseUrl: `https://${server.grpc}`, nodeOptions: { ca: server.ca } }),
  );
  return [
    await load(
      "Connect JSON, HTTP/1.1 + TLS, API key",
      () => connect.generateToken({ clusterId: "bench-eks" }, { headers }),
      requests,
      concurrency,
    ),
    await load("gRPC, HTTP/2 + TLS, API key", () => grpc.generateToken({ clusterId: "bench-eks" }, { headers }), requests, concurrency),
  ];
}
