/**
 * One process of `tracing-pipeline.ts`: the service's call pipeline in-process, no
 * transport and no network, driven with `calls` cached GenerateToken calls, 64 at a
 * time, with tracing as `argv[2]` says (`off`, or a sampling ratio such as `0.01`,
 * spans going to an exporter that drops them at once). Prints the CPU time its main
 * thread spent per call, in µs, from `/proc`. A process per run, since on Node 20 an
 * AsyncLocalStorage once entered slows every promise of the process from then on.
 */
import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { ClusterTokenService, GenerateTokenRequestSchema } from "../gen/clustertoken/v1/cluster_token_service_pb.js";
import { AuditLog } from "../src/audit/audit-log.js";
import type { TransportCall } from "../src/core/call-context.js";
import { createLogger } from "../src/logging/logger.js";
import { ServiceMetrics } from "../src/metrics/service-metrics.js";
import { providers } from "../src/providers.js";
import { createService } from "../src/service.js";
import { createOtelTracing } from "../src/tracing/otel-tracing.js";
import { rawTestConfig, testConfig } from "../test/support/test-config.js";

const mode = process.argv[2] ?? "off";
const calls = Number(process.argv[3] ?? 100_000);
const logger = createLogger({ level: "info", destination: { write() {} }, providers });
const config = testConfig(rawTestConfig());
const audit = AuditLog.open(config.audit.file, { commitTimeoutMs: 5_000 });
const tracing =
  mode === "off"
    ? undefined
    : createOtelTracing(
        {
          protocol: "http/protobuf",
          collector: "",
          sampler: "parentbased_traceidratio",
          ratio: Number(mode),
          batch: { scheduledDelayMillis: 1_000, exportTimeoutMillis: 30_000, maxQueueSize: 2_048, maxExportBatchSize: 512 },
        },
        { logger, exporter: { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} } },
      );
const service = createService(config, {
  logger,
  metrics: new ServiceMetrics({ defaultMetrics: false }),
  audit,
  ...(tracing ? { tracing } : {}),
});
const request = create(GenerateTokenRequestSchema, { clusterId: "demo-eks" });
const headers = { get: () => undefined };
const signal = new AbortController().signal;
let n = 0;
const call = (): TransportCall => ({
  transport: "grpc",
  requestId: `r${n++}`,
  signal,
  deadline: undefined,
  headers,
  peerCertificate: undefined,
});
/** CPU seconds of this process's main thread so far (fields 14 and 15 of its stat, in 1/100 s). */
function mainThreadCpu(): number {
  const stat = readFileSync(`/proc/${process.pid}/task/${process.pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
async function drive(total: number): Promise<void> {
  let left = total;
  const worker = async () => {
    while (left-- > 0) await service.invoke(ClusterTokenService.method.generateToken, request, call());
  };
  await Promise.all(Array.from({ length: 64 }, worker));
}
await drive(calls / 5);
const before = mainThreadCpu();
await drive(calls);
console.log(((mainThreadCpu() - before) * 1e6) / calls);
await service.close();
await audit.close();
await tracing?.shutdown(1_000);
