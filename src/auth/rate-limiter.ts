/** Options of {@link RateLimiter}. */
export interface RateLimit {
  /** The sustained rate each key may use. */
  requestsPerSecond: number;
  /** How many requests a key may make at once after being idle. */
  burst: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** Buckets kept before full (idle) ones are dropped; bounds memory whatever callers present. */
const maxBuckets = 10_000;

/**
 * A token bucket per key (the principal): each request takes a token; tokens refill
 * at `requestsPerSecond` up to `burst`.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: RateLimit,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /** Takes a token for `key`; when none is left, says how long until one is. */
  take(key: string): { ok: true } | { ok: false; retryAfterMs: number } {
    const now = this.nowMs();
    const bucket = this.buckets.get(key) ?? { tokens: this.limit.burst, updatedMs: now };
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((now - bucket.updatedMs) / 1000) * this.limit.requestsPerSecond);
    bucket.updatedMs = now;
    if (!this.buckets.has(key)) {
      if (this.buckets.size >= maxBuckets) this.dropFullBuckets(now);
      this.buckets.set(key, bucket);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / this.limit.requestsPerSecond) * 1000) };
  }

  private dropFullBuckets(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.updatedMs) / 1000) * this.limit.requestsPerSecond >= this.limit.burst) this.buckets.delete(key);
    }
  }
}
