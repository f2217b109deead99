import type { RateLimiter } from "../auth/rate-limiter.js";
import { ServiceError } from "../errors/service-error.js";
import { defineLink, type Link } from "./link.js";

/**
 * Refuses a principal over its rate (RESOURCE_EXHAUSTED, `RATE_LIMITED`, with
 * `retry_after_ms`). Buckets are per principal, so it requires authentication
 * outside it; composition refuses any other order.
 */
export function rateLimit(limiter: RateLimiter): Link {
  return defineLink({
    name: "rateLimit",
    requires: ["principal"],
    wrap: (next) => (invocation) => {
      const { name } = invocation.principal;
      const taken = limiter.take(name);
      if (!taken.ok) {
        throw new ServiceError({
          reason: "RATE_LIMITED",
          message: `${name} is over its rate limit; retry after ${taken.retryAfterMs} ms`,
          metadata: { retry_after_ms: String(taken.retryAfterMs) },
        });
      }
      return next(invocation);
    },
  });
}
