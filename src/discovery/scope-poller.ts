import type { ConcurrencyLimit } from "../common/concurrency-limit.js";
import { raceAbort } from "../common/deadline.js";
import type { Scheduler } from "../common/scheduler.js";

/** The first wait after a failed listing; it doubles with each further failure. */
export const firstRetryMs = 30_000;
/** The longest wait after failures when `pollSeconds` is shorter: five minutes. */
export const maxRetryFloorMs = 300_000;
/** Each wait is this share longer or shorter, at random, so that replicas and scopes spread their listings. */
export const jitterShare = 0.1;

/**
 * How long to wait before the next listing of a scope: `pollMs` after a success;
 * after `failures` failures in a row, 30 s, 60 s, 120 s, … up to the larger of
 * `pollMs` and five minutes. Both are spread by ±10 % with `random` (a number in
 * [0, 1), as `Math.random` returns).
 */
export function nextListingDelay(pollMs: number, failures: number, random: () => number): number {
  const base = failures === 0 ? pollMs : Math.min(firstRetryMs * 2 ** (failures - 1), Math.max(pollMs, maxRetryFloorMs));
  return Math.round(base * (1 - jitterShare + 2 * jitterShare * random()));
}

/** Options of {@link ScopePoller}. */
export interface ScopePollerOptions<L> {
  /** How often the scope is listed while listings succeed. */
  readonly pollMs: number;
  /** The longest one listing may take, from when it got its slot; it is then aborted and counts as failed. */
  readonly listingTimeoutMs: () => number;
  /** Listing slots shared by every scope of every account, so that a start or a reload lists with bounded concurrency. */
  readonly slots: ConcurrencyLimit;
  readonly scheduler: Scheduler;
  readonly random: () => number;
  /** One complete listing of the scope; it rejects when any part failed, and stops when `signal` aborts. */
  readonly list: (signal: AbortSignal) => Promise<L>;
  /** Applies a complete listing, unless `signal` aborted first (the poller was stopped). */
  readonly listed: (listing: L, signal: AbortSignal) => Promise<void>;
  /** Reports a failed listing: what the lister rejected with, or the timeout's abort reason. */
  readonly failed: (err: unknown) => void;
  /** Told after every listing, applied or failed: the "cycle done" hook tests wait on instead of sleeping. */
  readonly done?: (ok: boolean) => void;
}

/**
 * Lists one scope of one account, again and again: at once when started (in the
 * background: nothing waits for it), then every `pollMs` with jitter, backing off
 * after failures. Every listing holds a shared slot and has a deadline, so a hung
 * cloud holds one slot for at most the listing timeout, even if its lister ignores
 * its signal. Stopping cancels the next listing and aborts the one under way, whose
 * result is then never applied.
 */
export class ScopePoller<L> {
  private readonly stopping = new AbortController();
  private cancelTimer: (() => void) | undefined;
  private failures = 0;

  constructor(private readonly options: ScopePollerOptions<L>) {}

  /** Schedules the first listing at once. */
  start(): void {
    this.next(0);
  }

  /** Cancels the next listing and aborts the one under way. */
  stop(): void {
    this.stopping.abort(new DOMException("the scope is no longer polled", "AbortError"));
    this.cancelTimer?.();
  }

  private next(delayMs: number): void {
    if (this.stopping.signal.aborted) return;
    this.cancelTimer = this.options.scheduler.schedule(delayMs, () => void this.run());
  }

  private async run(): Promise<void> {
    const { slots, scheduler, listingTimeoutMs, list, listed, failed, done, pollMs, random } = this.options;
    const stopped = this.stopping.signal;
    let release: (() => void) | undefined;
    try {
      release = await slots.acquire(stopped);
    } catch {
      return; // stopped while waiting for a slot
    }
    const attempt = new AbortController();
    const forward = () => attempt.abort(stopped.reason);
    stopped.addEventListener("abort", forward, { once: true });
    const timeoutMs = listingTimeoutMs();
    const cancelDeadline = scheduler.schedule(timeoutMs, () =>
      attempt.abort(new DOMException(`the listing took longer than ${timeoutMs} ms`, "TimeoutError")),
    );
    let ok = false;
    try {
      const listing = await raceAbort(list(attempt.signal), attempt.signal);
      await listed(listing, stopped);
      ok = true;
    } catch (err) {
      if (!stopped.aborted) failed(err);
    } finally {
      cancelDeadline();
      release();
      stopped.removeEventListener("abort", forward);
    }
    if (stopped.aborted) return;
    this.failures = ok ? 0 : this.failures + 1;
    done?.(ok);
    this.next(nextListingDelay(pollMs, this.failures, random));
  }
}
