import { LineWriteError } from "./line-write-error.js";

interface Waiter {
  readonly seq: number;
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/**
 * The callers waiting for their own line to be written, each with its own deadline.
 * Lines are written in sequence order, so a write settles every waiter up to the
 * last line it carried: waiters are kept in sequence order, and a write settles a
 * prefix of them. Deadlines come in any order, since each caller chooses its timeout.
 * One timer serves them all, armed for the earliest deadline; it is re-armed when a
 * new waiter's deadline comes sooner, and when it fires it rejects every waiter whose
 * deadline has passed (a scan: expiry is the rare case) and re-arms for the next. In
 * the common case (one timeout for all) that is one timer per timeout period, and
 * nothing per line but an entry in an array.
 *
 * @private Internal to the line writer.
 */
export class LineWaiters {
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The deadline the timer is armed for; it may be earlier than any waiter's, after those have been settled. */
  private armedFor = Number.POSITIVE_INFINITY;

  /**
   * @param expired called with the sequence number of each waiter whose deadline
   *   passed, after it has been rejected: the writer withdraws its line if still queued.
   */
  constructor(private readonly expired: (seq: number) => void) {}

  /** How many callers wait. */
  get size(): number {
    return this.waiters.length;
  }

  /** Whether someone waits for line `seq`. */
  has(seq: number): boolean {
    return this.waiters.some((waiter) => waiter.seq === seq);
  }

  /** Waits for line `seq` (later than every line waited for so far), for at most `timeoutMs`. */
  add(seq: number, timeoutMs: number, resolve: () => void, reject: (err: Error) => void): void {
    const deadline = performance.now() + timeoutMs;
    this.waiters.push({ seq, deadline, resolve, reject });
    if (deadline < this.armedFor) this.arm(deadline);
  }

  /** Settles every waiter up to line `last`: resolved, or rejected with `err`. */
  settleThrough(last: number, err?: Error): void {
    let count = 0;
    while (count < this.waiters.length && (this.waiters[count] as Waiter).seq <= last) count++;
    if (count === 0) return;
    for (const waiter of this.waiters.splice(0, count)) {
      if (err) waiter.reject(err);
      else waiter.resolve();
    }
  }

  /** Rejects the waiter of line `seq`, if any. */
  reject(seq: number, err: Error): void {
    const index = this.waiters.findIndex((waiter) => waiter.seq === seq);
    if (index >= 0) (this.waiters.splice(index, 1)[0] as Waiter).reject(err);
  }

  private arm(deadline: number): void {
    clearTimeout(this.timer);
    this.armedFor = deadline;
    this.timer = setTimeout(this.expire, Math.max(0, deadline - performance.now()));
    this.timer.unref();
  }

  private readonly expire = (): void => {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = performance.now();
    const expired = this.waiters.filter((waiter) => waiter.deadline <= now);
    if (expired.length > 0) this.waiters = this.waiters.filter((waiter) => waiter.deadline > now);
    for (const waiter of expired) {
      waiter.reject(new LineWriteError("the sink did not accept the line in time"));
      this.expired(waiter.seq);
    }
    let next = Number.POSITIVE_INFINITY;
    for (const waiter of this.waiters) next = Math.min(next, waiter.deadline);
    if (next !== Number.POSITIVE_INFINITY) this.arm(next);
  };
}
