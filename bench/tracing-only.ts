/**
 * `npm run bench:tracing`: only the tracing tables of `npm run bench` (`tracing-cost.ts`
 * over the wire, `tracing-pipeline.ts` in-process), for a change that concerns tracing alone.
 */
import { cpus } from "node:os";
import { benchTracingCost, tracingCostHeader } from "./tracing-cost.js";
import { benchTracingPipeline, tracingPipelineHeader } from "./tracing-pipeline.js";

console.log(`Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}\n`);
console.log(tracingCostHeader);
console.log((await benchTracingCost()).join("\n"));
console.log(`\n${tracingPipelineHeader}`);
console.log((await benchTracingPipeline()).join("\n"));
