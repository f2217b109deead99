/**
 * `npm run bench:tracing`: only the tracing rows of `npm run bench` (`tracing-cost.ts`),
 * for a change that concerns tracing alone.
 */
import { cpus } from "node:os";
import { benchTracingCost, tracingCostHeader } from "./tracing-cost.js";

console.log(`Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}\n`);
console.log(tracingCostHeader);
console.log((await benchTracingCost()).join("\n"));
