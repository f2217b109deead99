import { LineWriteError } from "./line-write-error.js";

interface Waiter {
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/** A deadline in the heap; stale once its waiter has been settled. */
interface Deadline {
  readonly at: number;
  readonly seq: number;
}

/**
 * The callers waiting for their own line to be written, each with its own deadline.
 * Lines are written in sequence order, so a write settles every waiter up to the
 * last line it carried; deadlines come in any order, since each caller chooses its
 * timeout. One timer serves them all: it is armed for the earliest deadline (a
 * binary heap finds it), and re-armed only when a new waiter's deadline comes
 * sooner, so the common case (one timeout for all) arms one timer per timeout
 * period, not one per line.
 *
 * @private Internal to the line writer.
 */
export class LineWaiters {
  /** By sequence number; a Map iterates in insertion order, which is sequence order. */
  private readonly waiting = new Map<number, Waiter>();
  /** A min-heap on `at`; entries of settled waiters are dropped when they surface. */
  private heap: Deadline[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The deadline the timer is armed for. */
  private armedFor = Number.POSITIVE_INFINITY;

  /**
   * @param expired called with the sequence number of each waiter whose deadline
   *   passed, after it has been rejected: the writer withdraws its line if still queued.
   */
  constructor(private readonly expired: (seq: number) => void) {}

  /** How many callers wait. */
  get size(): number {
    return this.waiting.size;
  }

  /** Whether someone waits for line `seq`. */
  has(seq: number): boolean {
    return this.waiting.has(seq);
  }

  /** Waits for line `seq`, for at most `timeoutMs`. */
  add(seq: number, timeoutMs: number, resolve: () => void, reject: (err: Error) => void): void {
    const deadline = performance.now() + timeoutMs;
    this.waiting.set(seq, { deadline, resolve, reject });
    this.push({ at: deadline, seq });
    if (deadline < this.armedFor) this.arm(deadline);
  }

  /** Settles every waiter up to line `last`: resolved, or rejected with `err`. */
  settleThrough(last: number, err?: Error): void {
    for (const [seq, waiter] of this.waiting) {
      if (seq > last) break;
      this.waiting.delete(seq);
      if (err) waiter.reject(err);
      else waiter.resolve();
    }
    // Nobody waits: the deadlines left are all stale. The timer may fire once for nothing.
    if (this.waiting.size === 0) this.heap = [];
  }

  /** Rejects the waiter of line `seq`, if any. */
  reject(seq: number, err: Error): void {
    const waiter = this.waiting.get(seq);
    if (waiter === undefined) return;
    this.waiting.delete(seq);
    waiter.reject(err);
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
    for (let next = this.heap[0]; next !== undefined && next.at <= now; next = this.heap[0]) {
      this.pop();
      const waiter = this.waiting.get(next.seq);
      if (waiter === undefined || waiter.deadline !== next.at) continue;
      this.waiting.delete(next.seq);
      waiter.reject(new LineWriteError("the sink did not accept the line in time"));
      this.expired(next.seq);
    }
    const next = this.heap[0];
    if (next !== undefined) this.arm(next.at);
  };

  private push(entry: Deadline): void {
    const heap = this.heap;
    let i = heap.push(entry) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as Deadline).at <= entry.at) break;
      heap[i] = heap[parent] as Deadline;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop() as Deadline;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && (heap[right] as Deadline).at < (heap[left] as Deadline).at ? right : left;
      if ((heap[child] as Deadline).at >= last.at) break;
      heap[i] = heap[child] as Deadline;
      i = child;
    }
    heap[i] = last;
  }
}
