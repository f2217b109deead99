import type { RateLimiter } from "../auth/rate-limiter.js";
import { ServiceError } from "../errors/service-error.js";
import type { Link } from "./invocation.js";

/** Refuses a principal over its rate (RESOURCE_EXHAUSTED, `RATE_LIMITED`, with `retry_after_ms`). */
export function rateLimit(limiter: RateLimiter): Link {
  return (next) => (invocation) => {
    const name = invocation.principal?.name ?? "(unauthenticated)";
    const taken = limiter.take(name);
    if (!taken.ok) {
      throw new ServiceError({
        reason: "RATE_LIMITED",
        message: `${name} is over its rate limit; retry after ${taken.retryAfterMs} ms`,
        metadata: { retry_after_ms: String(taken.retryAfterMs) },
      });
    }
    return next(invocation);
  };
}
