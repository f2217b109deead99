import { unwrapFailure } from "../core/call-context.js";
import { isServiceError } from "../errors/service-error.js";
import type { RpcMetrics, ServiceMetrics } from "../metrics/service-metrics.js";
import type { Link } from "./invocation.js";

/**
 * Counts every call, started and handled, and times it, with go-grpc-prometheus's
 * names and labels, on both transports alike. The outermost link, so that the time
 * includes authentication and the audit commit.
 */
export function rpcMetrics(metrics: ServiceMetrics): Link {
  const byMethod = new WeakMap<object, RpcMetrics>();
  return (next) => async (invocation) => {
    let rpc = byMethod.get(invocation.method);
    if (rpc === undefined) {
      rpc = metrics.rpc(invocation.method.parent.typeName, invocation.method.name);
      byMethod.set(invocation.method, rpc);
    }
    rpc.started();
    const started = performance.now();
    let code = "OK";
    try {
      return await next(invocation);
    } catch (err) {
      const { error } = unwrapFailure(err);
      code = isServiceError(error) ? error.code : "Internal";
      throw err;
    } finally {
      rpc.handled(code, (performance.now() - started) / 1000);
    }
  };
}
