/**
 * `npm run bench`: every benchmark, printed as Markdown tables for docs/benchmarks.md.
 *
 * Servers run as their own processes (as `cluster-token serve`), load comes from
 * h2load (gRPC) and wrk (Connect over HTTP/1.1) in processes of their own, and
 * every comparison is a ratio of two figures taken alternately in one run, since
 * this machine's two cores are shared and noisy. `npm run bench:profile` is the CPU
 * profile recipe for finding where the time goes.
 */
import { cpus } from "node:os";
import { benchCredentialCommand } from "./credential-vs-awscli.js";
import { benchDiscovery } from "./discovery.js";
import { benchManyClusters } from "./many-clusters.js";
import { benchMetricsScrape } from "./metrics-scrape.js";
import { benchMint } from "./mint.js";
import { startServerProcess } from "./server-process.js";
import { benchTracingCost, tracingCostHeader } from "./tracing-cost.js";
import { benchTracingPipeline, tracingPipelineHeader } from "./tracing-pipeline.js";
import { benchTransportRatios } from "./transport-ratios.js";

console.log(`Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}\n`);
console.log("| in-process | throughput | latency |\n|---|---|---|");
console.log(await benchMint());
console.log("\n| over the wire, 16 streams × 4 connections (gRPC) or 16 connections (wrk) | rates and ratio | latency |\n|---|---|---|");
console.log((await benchTransportRatios()).join("\n"));
console.log(await benchMetricsScrape());
console.log(`\n${tracingCostHeader}`);
console.log((await benchTracingCost()).join("\n"));
console.log(`\n${tracingPipelineHeader}`);
console.log((await benchTracingPipeline()).join("\n"));
const server = await startServerProcess();
try {
  console.log("\n| one credential for kubectl | wall time | | | |\n|---|---|---|---|---|");
  console.log((await benchCredentialCommand(server)).join("\n"));
} finally {
  await server.stop();
}
console.log("\n| registry at scale | start-up | memory | throughput |\n|---|---|---|---|");
console.log((await benchManyClusters()).join("\n"));
console.log("\n| account discovery | measured | goal |\n|---|---|---|");
console.log((await benchDiscovery()).join("\n"));
