import { create, toBinary } from "@bufbuild/protobuf";
import { GenerateTokenRequestSchema, KubeconfigMode } from "../gen/clustertoken/v1/cluster_token_service_pb.js";
import { awsAccount, type BenchClouds, gcpAccount, startBenchClouds } from "./discovery-clouds.js";
import { steadyPoll } from "./discovery-poll.js";
import { clientOf, compared, discoveringServer, grantAll, medianMs, until } from "./discovery-server.js";
import { grpcCalls } from "./grpc-calls.js";
import type { GrpcCall } from "./load-generators.js";
import { type ServerProcess, startServerProcess } from "./server-process.js";

function generateToken(clusterId: string): GrpcCall {
  return {
    path: grpcCalls.GenerateToken.path,
    message: toBinary(GenerateTokenRequestSchema, create(GenerateTokenRequestSchema, { clusterId })),
  };
}

/**
 * Account discovery at scale, each server as its own process against the fake
 * clouds: 10,000 clusters over five accounts of two clouds, from spawn to every
 * cluster discovered; the RSS serving them; GenerateToken for a discovered cluster
 * against a server of 10 configured ones (h2load, alternated); the time to the first
 * token of a cluster created in the fake after the poll, against one upstream round
 * trip; and the upstream requests of a steady poll, counted at the fake.
 */
export async function benchDiscovery(perAccount = Number(process.env.BENCH_DISCOVERED ?? 10_000) / 5): Promise<string[]> {
  const rows: string[] = [];
  const clouds = await startBenchClouds();
  const small = await startServerProcess({ moreClusters: 9, configure: grantAll });
  try {
    const pem = small.ca;
    const accounts = [
      awsAccount(clouds, pem, "aws-a", ["us-west-2", "eu-west-1"], perAccount),
      awsAccount(clouds, pem, "aws-b", ["us-east-1", "ap-south-1"], perAccount),
      awsAccount(clouds, pem, "aws-c", ["eu-central-1"], perAccount),
      gcpAccount(clouds, pem, "gke-a", ["bench-proj-a1", "bench-proj-a2"], perAccount),
      gcpAccount(clouds, pem, "gke-b", ["bench-proj-b1"], perAccount),
    ];
    clouds.eks.addCluster("us-west-2", "probe", {
      endpoint: "https://probe.gr7.us-west-2.eks.amazonaws.com",
      caData: pem.toString("base64"),
    });
    const big = await discoveringServer(clouds, accounts, {
      more: (config) => {
        // One configured cluster discovered through the fake EKS on every call: one upstream round trip.
        (config.clusters as unknown[]).push({
          id: "probe-eks",
          provider: "aws",
          region: "us-west-2",
          name: "probe",
          credentials: "bench",
          apiEndpoint: clouds.eks.url,
        });
        config.discovery = { cacheTtlSeconds: 0, maxStaleSeconds: 0 };
        config.publicUrl = "https://cluster-token.bench.example.com";
        // 21 fresh clusters asked for in a row: more than the default burst of lookups.
        config.accountDiscovery = { lookupBurst: 100 };
      },
    });
    try {
      await until(() => big.discovered() >= big.total, 120_000, `discovering ${big.total} clusters`);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const rss = big.server.rssMb();
      const total = big.total.toLocaleString("en-US");
      rows.push(
        `| ${total} clusters over 5 accounts (3 AWS, 2 Google Cloud), exec to all discovered | **${(big.allDiscoveredMs() / 1000).toFixed(2)} s** | ≤ 5 s |`,
      );
      rows.push(
        `| RSS serving ${total} discovered clusters | **${rss.toFixed(0)} MB** (10 configured: ${small.rssMb().toFixed(0)} MB) | ≤ 150 MB |`,
      );
      const target = accounts[0]?.ids[42] as string;
      // h2load counts a gRPC error as a success: make sure the call issues first.
      await clientOf(big.server).generateToken({ clusterId: target }, { headers: big.server.headers });
      rows.push(
        `| GenerateToken, ${total} discovered (AWS and Google Cloud) ÷ 10 configured | ${await compared([small, grpcCalls.GenerateToken], [big.server, generateToken(target)])} | ≥ 0.95 |`,
      );
      // Inside one process: a discovered cluster against the configured bench-eks beside it.
      rows.push(
        `| GenerateToken on that server, a discovered ÷ a configured cluster | ${await compared([big.server, grpcCalls.GenerateToken], [big.server, generateToken(target)])} | |`,
      );
      rows.push(await firstToken(clouds, big.server));
    } finally {
      await big.server.stop();
    }
    rows.push(await awsOnly(clouds, small, perAccount));
    rows.push(...(await steadyPoll(clouds, pem)));
  } finally {
    await small.stop();
    await clouds.close();
  }
  return rows;
}

/** A cluster created in the fake after the poll: the latency of its first token, against a call that costs one DescribeCluster. */
async function firstToken(clouds: BenchClouds, server: ServerProcess): Promise<string> {
  const client = clientOf(server);
  const options = { headers: server.headers };
  const roundTrip = await medianMs(21, () => client.getKubeconfig({ clusterId: "probe-eks", mode: KubeconfigMode.EXEC }, options));
  const first = await medianMs(21, async (i) => {
    clouds.eks.addCluster("us-west-2", `fresh-${i}`, {});
    await client.generateToken({ clusterId: `fresh-${i}.us-west-2.aws-a` }, options);
  });
  const within = first <= roundTrip + 50 ? "✓" : "✗";
  return `| a cluster created in the fake: its first token (medians of 21) | **${first.toFixed(1)} ms**, against ${roundTrip.toFixed(1)} ms for a call of one DescribeCluster ${within} | ≤ one upstream round trip + 50 ms |`;
}

/**
 * The ratio again with the discovered clusters all on AWS: a process that has used a
 * Google credential pays for the AsyncLocalStorage its driver sets (promise hooks on
 * every promise, Node 20), which the mixed server's figure includes.
 */
async function awsOnly(clouds: BenchClouds, small: ServerProcess, perAccount: number): Promise<string> {
  const regions = ["us-east-2", "us-west-1", "ap-northeast-1", "ap-southeast-2", "ap-northeast-2"];
  const accounts = regions.map((region, i) => awsAccount(clouds, small.ca, `aws-only-${i}`, [region], perAccount));
  const server = await discoveringServer(clouds, accounts);
  try {
    await until(() => server.discovered() >= server.total, 120_000, `discovering ${server.total} clusters`);
    const target = accounts[0]?.ids[42] as string;
    await clientOf(server.server).generateToken({ clusterId: target }, { headers: server.server.headers });
    const total = server.total.toLocaleString("en-US");
    return `| GenerateToken, ${total} discovered (AWS only) ÷ 10 configured | ${await compared([small, grpcCalls.GenerateToken], [server.server, generateToken(target)])} | ≥ 0.95 |`;
  } finally {
    await server.server.stop();
  }
}
