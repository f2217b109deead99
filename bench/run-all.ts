/**
 * `npm run bench`: every benchmark, printed as Markdown tables for the README.
 *
 * The server runs as its own process (as `cluster-token serve`); load and clients
 * run in this one. Both share this machine's cores, so compare figures run to run
 * on the same machine rather than across machines.
 */
import { cpus } from "node:os";
import { benchCredentialCommand } from "./credential-vs-awscli.js";
import { benchManyClusters } from "./many-clusters.js";
import { startServerProcess } from "./server-process.js";
import { benchMint, benchThroughput } from "./token-throughput.js";

const server = await startServerProcess();
try {
  console.log(`Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}\n`);
  console.log("| token issuance | throughput | latency | | |\n|---|---|---|---|---|");
  console.log([await benchMint(), ...(await benchThroughput(server))].join("\n"));
  console.log("\n| one credential for kubectl | wall time | | | |\n|---|---|---|---|---|");
  console.log((await benchCredentialCommand(server)).join("\n"));
} finally {
  server.stop();
}
console.log("\n| registry at scale | start-up | memory | throughput | |\n|---|---|---|---|---|");
console.log((await benchManyClusters()).join("\n"));
