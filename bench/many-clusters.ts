import { startServerProcess } from "./server-process.js";
import { benchThroughput } from "./token-throughput.js";

/**
 * The registry at scale: start-up (spawn to SERVING), resident memory, and
 * GenerateToken throughput of a server with 10,000 clusters, against one with 10,
 * one after the other in the same run.
 */
export async function benchManyClusters(large = Number(process.env.BENCH_CLUSTERS ?? 10_000)): Promise<string[]> {
  const rows: string[] = [];
  let smallRate = 0;
  for (const count of [10, large]) {
    const server = await startServerProcess({ moreClusters: count - 1 });
    try {
      const rss = server.rssMb();
      const [, grpc] = await benchThroughput(server, 3000);
      const rate = Number(/\| ([\d,]+) req\/s/.exec(grpc ?? "")?.[1]?.replace(/,/g, "") ?? Number.NaN);
      if (count === 10) smallRate = rate;
      const ratio = count === 10 ? "" : ` (${(rate / smallRate).toFixed(2)} of 10 clusters)`;
      rows.push(
        `| ${count.toLocaleString("en")} clusters | start-up ${server.startupMs.toFixed(0)} ms | RSS ${rss.toFixed(0)} MB | gRPC GenerateToken ${rate.toLocaleString("en")} req/s${ratio} | |`,
      );
    } finally {
      server.stop();
    }
  }
  return rows;
}
