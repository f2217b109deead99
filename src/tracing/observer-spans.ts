import { upstreamOk, type UpstreamObserver } from "../core/upstream-observer.js";
import { ours, upstreamAttributes } from "./span-attributes.js";
import type { Tracing } from "./tracing.js";

/**
 * `observer`, and with tracing on, a child span of the current call for each call to
 * a cloud's API as well: named `<provider> <operation>` (`aws token`, `gcp
 * discovery`), with the same provider, operation and outcome as its metric. The
 * upstream observer sees every such call, retries one by one; a call shared by
 * several callers (one mint for a burst) is the child of the call that started it.
 * With tracing off this is `observer` itself.
 */
export function withUpstreamSpans(observer: UpstreamObserver, tracing: Tracing | undefined): UpstreamObserver {
  if (!tracing) return observer;
  return (provider, operation, outcome, seconds) => {
    observer(provider, operation, outcome, seconds);
    tracing.recordChild({
      name: `${provider} ${operation}`,
      kind: "client",
      startedAt: performance.now() - seconds * 1000,
      attributes: upstreamAttributes(provider, operation, outcome),
      ...(outcome === upstreamOk ? {} : { error: outcome }),
    });
  };
}

/** `observer`, and with tracing on, whether the call's token came from the cache, on its span. */
export function withCacheAnnotation(observer: (hit: boolean) => void, tracing: Tracing | undefined): (hit: boolean) => void {
  if (!tracing) return observer;
  return (hit) => {
    observer(hit);
    tracing.annotate(ours.tokenCacheHit, hit);
  };
}

/** The name of the audit commit's span. */
export const auditCommitSpanName = "audit commit";
