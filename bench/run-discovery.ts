/**
 * `npm run build && node dist/bench/run-discovery.js`: the account-discovery
 * benchmarks alone (`npm run bench` runs them too), printed as a Markdown table for
 * docs/benchmarks.md. `BENCH_DISCOVERED` sets the number of discovered clusters (10,000).
 */
import { cpus } from "node:os";
import { benchDiscovery } from "./discovery.js";

console.log(`Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}\n`);
console.log("| account discovery | measured | goal |\n|---|---|---|");
console.log((await benchDiscovery()).join("\n"));
