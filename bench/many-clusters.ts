import { grpcCalls } from "./grpc-calls.js";
import { h2load, sideBySide } from "./load-generators.js";
import { startServerProcess } from "./server-process.js";

const generateToken = grpcCalls.GenerateToken;

/**
 * The registry at scale: start-up (spawn to SERVING), resident memory once serving
 * and after load, and gRPC GenerateToken throughput (h2load) of a server with 10,000
 * clusters against one with 10. Both servers run at once and are loaded side by
 * side, so that the ratio compares like with like.
 */
export async function benchManyClusters(large = Number(process.env.BENCH_CLUSTERS ?? 10_000)): Promise<string[]> {
  const small = await startServerProcess({ moreClusters: 9 });
  const big = await startServerProcess({ moreClusters: large - 1 });
  try {
    const servingRss = [small.rssMb(), big.rssMb()];
    const load = (server: typeof small) => () => h2load(`https://${server.grpc}`, generateToken, { headers: server.headers, seconds: 4 });
    const { a, b, ratio } = await sideBySide(load(small), load(big), Number(process.env.BENCH_ROUNDS ?? 5));
    const rate = [a.rate, b.rate];
    return [small, big].map((server, i) => {
      const count = i === 0 ? 10 : large;
      const of10 = i === 0 ? "" : `: **${ratio}** of 10 clusters`;
      return `| ${count.toLocaleString("en-US")} clusters | start-up **${server.startupMs.toFixed(0)} ms** | RSS **${servingRss[i]?.toFixed(0)} MB** serving, ${server.rssMb().toFixed(0)} MB after load | gRPC GenerateToken ${Math.round(rate[i] ?? 0).toLocaleString("en-US")} req/s${of10} |`;
    });
  } finally {
    await Promise.all([small.stop(), big.stop()]);
  }
}
