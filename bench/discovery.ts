import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ClusterTokenService, GenerateTokenRequestSchema, KubeconfigMode } from "../gen/clustertoken/v1/cluster_token_service_pb.js";
import { awsAccount, type BenchAccount, type BenchClouds, gcpAccount, startBenchClouds } from "./discovery-clouds.js";
import { grpcCalls } from "./grpc-calls.js";
import { type GrpcCall, h2load, sideBySide } from "./load-generators.js";
import { percentile, type ServerProcess, startServerProcess } from "./server-process.js";

const added = '"msg":"discovered cluster added"';

/** One grant for every cluster, on every server of the benchmark, so that both sides of a ratio check the same policy. */
function grantAll(config: Record<string, unknown>): void {
  const security = config.security as { grants?: unknown[] };
  if (security.grants) security.grants = [{ principals: ["key:bench"], clusters: ["*"], rpcs: ["*"] }];
}

function generateToken(clusterId: string): GrpcCall {
  return {
    path: grpcCalls.GenerateToken.path,
    message: toBinary(GenerateTokenRequestSchema, create(GenerateTokenRequestSchema, { clusterId })),
  };
}

/** Resolves once `done()` holds, checking every 20 ms; rejects after `timeoutMs`. */
async function until(done: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Starts a server with `accounts` (and what `more` adds), counting its discovered clusters from spawn on. */
async function discoveringServer(
  clouds: BenchClouds,
  accounts: readonly BenchAccount[],
  { metrics = false, more = () => {} }: { metrics?: boolean; more?: (config: Record<string, unknown>) => void } = {},
) {
  let count = 0;
  let partial = "";
  let allAt = Number.NaN;
  const total = accounts.reduce((n, a) => n + a.ids.length, 0);
  const server = await startServerProcess({
    metrics,
    configure: async (config, dir) => {
      grantAll(config);
      await clouds.configure(config, dir, accounts);
      more(config);
    },
    onOutput: (chunk) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) if (line.includes(added)) count++;
      if (count >= total && Number.isNaN(allAt)) allAt = performance.now();
    },
  });
  // From the exec of the process (its start-up, measured by startServerProcess) to the last cluster's line.
  const servingAt = performance.now();
  const allDiscoveredMs = () => server.startupMs + (allAt - servingAt);
  return { server, total, discovered: () => count, allDiscoveredMs };
}

function clientOf(server: ServerProcess) {
  return createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `https://${server.grpc}`, nodeOptions: { ca: server.ca } }));
}

/** Median ms of `runs` sequential calls of `call(i)`. */
async function medianMs(runs: number, call: (i: number) => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await call(i);
    times.push(performance.now() - started);
  }
  return percentile(
    times.sort((a, b) => a - b),
    50,
  );
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
      // Each round also reads the event-loop thread's CPU per call, steadier than rates on a shared machine.
      const cpu = { small: [] as number[], big: [] as number[] };
      const load = (server: ServerProcess, call: GrpcCall, into: number[]) => async () => {
        const before = server.eventLoopCpuSeconds() * 1000;
        const result = await h2load(`https://${server.grpc}`, call, { headers: server.headers, seconds: 4 });
        into.push(((server.eventLoopCpuSeconds() * 1000 - before) * 1000) / Math.max(1, result.succeeded));
        return result;
      };
      const { a, b, ratio } = await sideBySide(
        load(small, grpcCalls.GenerateToken, cpu.small),
        load(big.server, generateToken(target), cpu.big),
      );
      const us = (list: number[]) =>
        percentile(
          [...list].sort((x, y) => x - y),
          50,
        ).toFixed(0);
      rows.push(
        `| GenerateToken, ${total} discovered ÷ 10 configured (h2load, alternated) | ${Math.round(b.rate)} ÷ ${Math.round(a.rate)} req/s: **${ratio}**; event-loop CPU ${us(cpu.big)} ÷ ${us(cpu.small)} µs a call | ≥ 0.95 |`,
      );
      rows.push(await firstToken(clouds, big.server));
    } finally {
      await big.server.stop();
    }
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

/** The region a SigV4 request was signed for. */
const regionOf = (authorization: string | undefined) => /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(authorization ?? "")?.[1] ?? "";

/** The requests a steady poll of an unchanged account of 2,000 clusters in 2 regions makes, counted at the fake EKS, in three shapes. */
async function steadyPoll(clouds: BenchClouds, pem: Buffer): Promise<string[]> {
  const n = 2_000;
  const shapes = [
    {
      account: awsAccount(clouds, pem, "poll-filter", ["ca-central-1", "sa-east-1"], n, { filter: true, pollSeconds: 10 }),
      what: "a `tags` filter",
    },
    {
      account: awsAccount(clouds, pem, "poll-untagged", ["eu-north-1", "eu-south-1"], n, { tagged: false, pollSeconds: 10 }),
      what: "no filter, clusters never tagged",
    },
    {
      account: awsAccount(clouds, pem, "poll-tagged", ["eu-west-2", "eu-west-3"], n, { pollSeconds: 10 }),
      what: "no filter, every cluster tagged",
    },
  ];
  const server = await discoveringServer(
    clouds,
    shapes.map((s) => s.account),
    { metrics: true },
  );
  try {
    const scrape = async () => (await fetch(`http://${server.server.metrics}/metrics`)).text();
    const listings = async () =>
      [
        ...(await scrape()).matchAll(
          /^cluster_token_discovery_listings_total\{account="poll-[^"]+",scope="[^"]+",code="OK",reason=""\} (\d+)$/gm,
        ),
      ].map((m) => Number(m[1]));
    const counted = (times: number) =>
      until(
        async () => {
          const done = await listings();
          return done.length === 6 && done.every((c) => c >= times);
        },
        60_000,
        `every poll account listing ${times} times`,
      );
    const perRegion = () => {
      const counts = new Map<string, number>();
      for (const request of clouds.eks.requests)
        counts.set(regionOf(request.headers.authorization), (counts.get(regionOf(request.headers.authorization)) ?? 0) + 1);
      return counts;
    };
    await counted(1);
    const before = perRegion();
    await counted(2);
    const after = perRegion();
    return shapes.map(({ account, what }) => {
      const regions = account.entry.regions as string[];
      const requests = regions.reduce((sum, r) => sum + (after.get(r) ?? 0) - (before.get(r) ?? 0), 0);
      const bound = Math.ceil(n / 100) + regions.length;
      return `| upstream requests of a steady poll of an unchanged AWS account of ${n.toLocaleString("en-US")} clusters in ${regions.length} regions, ${what} | **${requests}** (bound ⌈N / 100⌉ + regions = ${bound}) ${requests <= bound ? "✓" : "✗"} | ≤ ⌈N / page size⌉ + regions |`;
    });
  } finally {
    await server.server.stop();
  }
}
