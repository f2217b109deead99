import { unwrapFailure } from "../core/call-context.js";
import { isServiceError } from "../errors/service-error.js";
import type { ServiceMetrics } from "../metrics/service-metrics.js";
import type { Link } from "./invocation.js";

/**
 * Counts every call, started and handled, and times it, with go-grpc-prometheus's
 * names and labels, on both transports alike. The outermost link, so that the time
 * includes authentication and the audit commit.
 */
export function rpcMetrics(metrics: ServiceMetrics): Link {
  return (next) => async (invocation) => {
    const service = invocation.method.parent.typeName;
    const method = invocation.method.name;
    metrics.rpcStarted(service, method);
    const started = performance.now();
    let code = "OK";
    try {
      return await next(invocation);
    } catch (err) {
      const { error } = unwrapFailure(err);
      code = isServiceError(error) ? error.code : "Internal";
      throw err;
    } finally {
      metrics.rpcHandled(service, method, code, (performance.now() - started) / 1000);
    }
  };
}
