import type { Tracing } from "../tracing/tracing.js";
import { classifyFailure } from "./classify-failure.js";
import { defineLink, type Link } from "./link.js";

/**
 * A span per call, continuing the caller's W3C trace context, whatever the
 * transport. It is the outermost link, so that its span covers everything the call
 * does and the links inside it (the access log, the audit) find the call's trace
 * ids on the invocation; the call's upstream calls and audit commit, recorded while
 * it runs, become its children. Only in the pipeline when tracing is on.
 */
export function traceCalls(tracing: Tracing): Link {
  return defineLink({
    name: "tracing",
    wrap: (next) => async (invocation) => {
      const span = tracing.startCall(invocation.method, invocation.call);
      invocation.trace = span;
      let outcome;
      try {
        outcome = await span.within(() => next(invocation));
      } catch (err) {
        const failure = classifyFailure(err);
        span.end({ principal: invocation.principal?.name, facts: failure.facts, failure });
        throw failure;
      }
      span.end({ principal: invocation.principal?.name, facts: outcome.facts, failure: undefined });
      return outcome;
    },
  });
}
