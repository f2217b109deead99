import { okStatus } from "../errors/status-codes.js";
import type { RpcMetrics, ServiceMetrics } from "../metrics/service-metrics.js";
import { classifyFailure } from "./classify-failure.js";
import { defineLink, type Link } from "./link.js";

/**
 * Counts every call, started and handled, and times it, with go-grpc-prometheus's
 * names and labels (`grpc_code` in grpc-go's spelling, from the classifier), on both
 * transports alike. The outermost link, so that the time includes authentication
 * and the audit commit. It also counts each issuance by the cloud identity it minted
 * with (`cluster_token_issuances_total`): a call that succeeds here was audited, and
 * its identity is one the config names, chosen by the policy. An exec kubeconfig mints
 * nothing (its identity is `execIdentity`), so it is not counted.
 */
export function rpcMetrics(metrics: ServiceMetrics): Link {
  const byMethod = new WeakMap<object, RpcMetrics>();
  return defineLink({
    name: "rpcMetrics",
    wrap: (next) => async (invocation) => {
      let rpc = byMethod.get(invocation.method);
      if (rpc === undefined) {
        rpc = metrics.rpc(invocation.method.parent.typeName, invocation.method.name);
        byMethod.set(invocation.method, rpc);
      }
      rpc.started();
      const started = performance.now();
      let code = okStatus.go;
      try {
        const outcome = await next(invocation);
        const { identity, provider } = outcome.facts;
        if (identity !== undefined && provider !== undefined) metrics.issued(invocation.method.name, provider, identity);
        return outcome;
      } catch (err) {
        const failure = classifyFailure(err);
        code = failure.status.go;
        throw failure;
      } finally {
        rpc.handled(code, (performance.now() - started) / 1000);
      }
    },
  });
}
