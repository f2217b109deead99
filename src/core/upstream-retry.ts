import { abortedByDeadline } from "../common/deadline.js";
import { isServiceError } from "../errors/service-error.js";

/** How failed upstream attempts are retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** The wait before the second attempt; it doubles for each further one, with jitter. */
  readonly baseBackoffMs: number;
  /** The longest wait between two attempts. */
  readonly maxBackoffMs: number;
}

/** Three attempts, waiting about 100 ms and then 200 ms between them. */
export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 3, baseBackoffMs: 100, maxBackoffMs: 2_000 };

/** The part of a call that bounds its upstream work. */
export interface CallBudget {
  /** Aborts when the caller cancels or the call's deadline passes. */
  readonly signal: AbortSignal;
  /** When the call must be answered, in ms since the epoch; always finite. */
  readonly deadline: number;
}

/**
 * Whether a failure is worth another attempt: the cloud was unreachable, throttled
 * or failing (UNAVAILABLE), but not when it answered with something malformed,
 * which a retry would only repeat.
 */
export function isRetryable(err: unknown): boolean {
  return isServiceError(err, "Unavailable") && err.reason !== "UPSTREAM_BAD_RESPONSE";
}

/**
 * Runs `attempt` until it succeeds, fails for good, or the budget runs out. Retries
 * happen only while the caller's remaining time covers the wait before them, so a
 * caller whose budget is spent gets the last real cause (UNAVAILABLE, throttled or
 * unreachable) rather than its own DEADLINE_EXCEEDED. DEADLINE_EXCEEDED comes only
 * from a deadline that passed before any attempt had failed.
 */
export async function withRetries<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  { signal, deadline }: CallBudget,
  policy: RetryPolicy = defaultRetryPolicy,
  random: () => number = Math.random,
): Promise<T> {
  let lastFailure: unknown;
  for (let attempts = 1; ; attempts++) {
    try {
      return await attempt(signal);
    } catch (err) {
      if (signal.aborted) throw lastFailure !== undefined && abortedByDeadline(signal) ? lastFailure : err;
      if (!isRetryable(err) || attempts >= policy.maxAttempts) throw err;
      const backoff = Math.min(policy.maxBackoffMs, policy.baseBackoffMs * 2 ** (attempts - 1)) * (0.5 + random() / 2);
      if (Date.now() + backoff >= deadline) throw err;
      lastFailure = err;
      if (!(await sleep(backoff, signal))) throw err;
    }
  }
}

/** Waits `ms`; false when `signal` aborted first. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
