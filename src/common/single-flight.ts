/**
 * The reason a shared attempt is aborted with when it outlives its own time limit:
 * a DOMException named "TimeoutError", which every driver's error mapping reads as
 * "the cloud could not be reached in time" (UPSTREAM_UNREACHABLE).
 */
export function attemptTimeoutReason(timeoutMs: number): DOMException {
  return new DOMException(`the upstream attempt took longer than ${timeoutMs} ms`, "TimeoutError");
}

/** Options of {@link SingleFlight}. */
export interface SingleFlightOptions {
  /**
   * How long one shared attempt may run, whoever waits for it. When it passes, the
   * attempt's signal aborts, its promise rejects, and it is dropped, so the next
   * caller starts afresh instead of joining a call that will never answer.
   */
  attemptTimeoutMs: number;
}

interface Flight<V> {
  readonly promise: Promise<V>;
  readonly controller: AbortController;
  waiters: number;
}

/**
 * Concurrent callers asking for the same key share one attempt (Go's singleflight),
 * with three guarantees a plain memoized promise lacks:
 *
 * - every shared attempt settles within `attemptTimeoutMs`, even when the work
 *   ignores its signal;
 * - each caller waits only until its own signal aborts, and the attempt is aborted
 *   once no caller waits for it any more;
 * - an attempt is forgotten as soon as it settles, so a failure is never shared with
 *   a caller that arrives after it.
 */
export class SingleFlight<K, V> {
  private readonly flights = new Map<K, Flight<V>>();

  constructor(private readonly options: SingleFlightOptions) {}

  /**
   * Joins the attempt in flight for `key`, or starts `work` as a new one. Rejects
   * with `signal.reason` when the caller's signal aborts first; callers map that to
   * their deadline or cancellation error.
   */
  run(key: K, signal: AbortSignal, work: (signal: AbortSignal) => Promise<V>): Promise<V> {
    if (signal.aborted) return Promise.reject(signal.reason);
    const flight = this.flights.get(key) ?? this.start(key, work);
    flight.waiters++;
    return new Promise<V>((resolve, reject) => {
      const leave = () => {
        signal.removeEventListener("abort", onAbort);
        flight.waiters--;
      };
      const onAbort = () => {
        leave();
        if (flight.waiters === 0) this.abandon(key, flight);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      flight.promise.then(
        (value) => {
          leave();
          resolve(value);
        },
        (err: unknown) => {
          leave();
          reject(err);
        },
      );
    });
  }

  private start(key: K, work: (signal: AbortSignal) => Promise<V>): Flight<V> {
    const controller = new AbortController();
    const { attemptTimeoutMs } = this.options;
    const timer = setTimeout(() => controller.abort(attemptTimeoutReason(attemptTimeoutMs)), attemptTimeoutMs);
    const aborted = new Promise<never>((_, reject) =>
      controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true }),
    );
    const promise = Promise.race([Promise.resolve().then(() => work(controller.signal)), aborted]).finally(() => {
      clearTimeout(timer);
      if (this.flights.get(key) === flight) this.flights.delete(key);
    });
    // Nobody may be left to observe a rejection once every waiter has gone.
    promise.catch(() => {});
    aborted.catch(() => {});
    const flight: Flight<V> = { promise, controller, waiters: 0 };
    this.flights.set(key, flight);
    return flight;
  }

  private abandon(key: K, flight: Flight<V>): void {
    if (this.flights.get(key) === flight) this.flights.delete(key);
    flight.controller.abort(new DOMException("every caller gave up on this attempt", "AbortError"));
  }
}
