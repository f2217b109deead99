import { close, constants, fstatSync, openSync, readFileSync, write, writeSync } from "node:fs";

/** Counters of a {@link LineWriter}, for metrics. */
export interface LineWriterStats {
  /** Lines handed to the kernel. */
  written: number;
  /** Lines lost to a failed write (for example ENOSPC on a full disk). */
  failed: number;
  /** Fire-and-forget lines dropped because the queue was full: the sink has been stalled for a while. */
  dropped: number;
}

/** Why a line awaited through {@link LineWriter.appendAndWait} was not written. */
export class LineWriteError extends Error {
  override readonly name = "LineWriteError";
}

interface Waiter {
  readonly seq: number;
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/** The longest pause between two attempts at a full non-blocking pipe. */
const maxRetryDelayMs = 50;

/**
 * An ordered, asynchronous writer of whole lines to one file descriptor, shared by
 * everything that writes there, so that lines from the logger and the audit log never
 * interleave.
 *
 * It never blocks the event loop. Lines are queued and written by one `fs.write` at
 * a time; whatever arrives while a write is in flight goes out together in the next
 * one. That is group commit, as databases do it: a caller that must know its line is
 * written ({@link appendAndWait}) waits for the write that carries it, and throughput
 * grows with load instead of paying one system call per line. A full non-blocking
 * pipe (EAGAIN) is retried with backoff on a timer; a partial write continues where
 * it stopped, so a line is never split by another.
 *
 * Everything is bounded: a waiter gives up at its deadline (and its line is withdrawn
 * if it has not reached the kernel yet), and the queue holds at most `maxQueuedChars` characters;
 * past that, fire-and-forget lines are dropped and counted, awaited ones refused.
 *
 * pino's sonic-boom is asynchronous too, but it cannot tell a caller when its own line
 * has been written, which is what failing closed needs.
 */
export class LineWriter {
  readonly stats: LineWriterStats = { written: 0, failed: 0, dropped: 0 };
  private queue: string[] = [];
  private queuedChars = 0;
  /** Sequence number of `queue[0]`; every line ever appended has one. */
  private queueBase = 0;
  private readonly waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The pending flush of lines nobody waits for, {@link lingerMs} after the first of them. */
  private lingering: NodeJS.Timeout | undefined;
  private writing = false;
  /** Whether a batch will start in this turn's check phase. */
  private scheduled = false;
  private closed = false;
  private fdClosed = false;
  private readonly idle: (() => void)[] = [];
  /** Whether `write(2)` on the descriptor returns at once whatever the reader does (see {@link writeReturnsAtOnce}). */
  private readonly inline: boolean;

  /**
   * @param fd an open descriptor; regular files and pipes may be non-blocking.
   * @param owned whether {@link close} closes `fd`.
   * @param lingerMs how long lines that nobody waits for may gather before they are
   *   written: 0 writes them at the end of the turn. A line that is waited for
   *   ({@link appendAndWait}), {@link drained} and {@link close} flush at once.
   */
  constructor(
    private readonly fd: number,
    private readonly owned: boolean,
    private readonly maxQueuedChars = 8 * 1024 * 1024,
    private readonly lingerMs = 0,
  ) {
    this.inline = writeReturnsAtOnce(fd);
  }

  /**
   * Opens `file` for appending, without blocking: a FIFO without a reader is refused
   * (ENXIO) instead of hanging start-up, and one whose reader stops makes writes
   * return EAGAIN instead of blocking a thread. @throws when it cannot be opened.
   */
  static openFile(file: string, maxQueuedChars?: number): LineWriter {
    const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK;
    return new LineWriter(openSync(file, flags, 0o640), true, maxQueuedChars);
  }

  /** Queues `line` (which ends in "\n") and returns at once; a full queue drops it. */
  append(line: string): void {
    if (this.closed || !this.enqueue(line)) this.stats.dropped++;
    else this.schedule();
  }

  /**
   * Queues `line` and resolves once the write carrying it has completed. Rejects with
   * a {@link LineWriteError} when that write fails, when `timeoutMs` passes first (the
   * line is then withdrawn unless it already reached the kernel), when the queue is
   * full, or after {@link close}.
   */
  appendAndWait(line: string, timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.reject(new LineWriteError("the sink is closed"));
    const seq = this.queueBase + this.queue.length;
    if (!this.enqueue(line)) return Promise.reject(new LineWriteError("the sink has been stalled long enough to fill its queue"));
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ seq, deadline: performance.now() + timeoutMs, resolve, reject });
      this.armTimer();
      this.schedule();
    });
  }

  /** Resolves once every line queued so far is written or failed, or after `timeoutMs`. */
  drained(timeoutMs: number): Promise<void> {
    if (!this.writing && !this.scheduled && this.queue.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.schedule();
    });
  }

  /** Refuses new lines, lets queued ones go out for up to `timeoutMs`, then closes the descriptor if owned. */
  async close(timeoutMs = 2_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.drained(timeoutMs);
    this.settle(Number.POSITIVE_INFINITY, new LineWriteError("the sink is closed"));
    if (this.owned) {
      // A closed descriptor's number can be handed to another file at once, so nothing may write to it after this.
      this.fdClosed = true;
      close(this.fd, () => {});
    }
  }

  /** Queues `line` when it fits; the caller then schedules, once it has said whether it waits. */
  private enqueue(line: string): boolean {
    if (this.queuedChars + line.length > this.maxQueuedChars) return false;
    this.queue.push(line);
    this.queuedChars += line.length;
    return true;
  }

  /**
   * Starts the next batch at the end of this event-loop turn (setImmediate runs right
   * after the turn's I/O callbacks), so that every line appended while this turn's
   * requests are handled goes out in one write, which completes by the next turn.
   * With {@link lingerMs}, lines that nobody waits for gather for that long first:
   * under load, one write then carries the lines of many turns instead of one. As
   * soon as someone waits (an awaited line, {@link drained}), a lingering batch
   * starts at the end of this turn instead.
   */
  private schedule(): void {
    if (this.writing || this.scheduled) return;
    if (this.queue.length === 0) {
      for (const done of this.idle.splice(0)) done();
      return;
    }
    if (this.lingerMs > 0 && this.waiters.length === 0 && this.idle.length === 0) {
      // Referenced, unlike the other timers: a process whose work is done still writes its last lines before it exits.
      this.lingering ??= setTimeout(this.writeNext, this.lingerMs);
      return;
    }
    clearTimeout(this.lingering);
    this.lingering = undefined;
    this.scheduled = true;
    setImmediate(this.writeNext);
  }

  /** Takes everything queued and writes it as one buffer. */
  private readonly writeNext = (): void => {
    this.scheduled = false;
    this.lingering = undefined;
    this.writing = true;
    const lines = this.queue;
    const last = this.queueBase + lines.length - 1;
    this.queue = [];
    this.queuedChars = 0;
    this.queueBase = last + 1;
    this.writeFrom(Buffer.from(lines.join("")), 0, lines.length, last, 1);
  };

  /** The write in flight is done, one way or another. */
  private finished(): void {
    this.writing = false;
    this.schedule();
  }

  private writeFrom(data: Buffer, offset: number, count: number, last: number, retryDelayMs: number): void {
    if (offset === data.length) {
      this.stats.written += count;
      this.settle(last);
      this.finished();
      return;
    }
    if (this.fdClosed) {
      this.stats.failed += count;
      this.settle(last, new LineWriteError("the sink is closed"));
      this.finished();
      return;
    }
    const written = (err: NodeJS.ErrnoException | null, bytes: number) => {
      if (err?.code === "EAGAIN") {
        setTimeout(() => this.writeFrom(data, offset, count, last, Math.min(retryDelayMs * 2, maxRetryDelayMs)), retryDelayMs).unref();
      } else if (err) {
        this.stats.failed += count;
        this.settle(last, new LineWriteError(`the write failed (${err.code ?? "error"})`, { cause: err }));
        this.finished();
      } else {
        this.writeFrom(data, offset + bytes, count, last, 1);
      }
    };
    if (!this.inline) {
      write(this.fd, data, offset, data.length - offset, null, written);
      return;
    }
    // A non-blocking pipe takes what fits and says EAGAIN for the rest: no thread-pool round trip is needed.
    let bytes: number;
    try {
      bytes = writeSync(this.fd, data, offset, data.length - offset);
    } catch (err) {
      written(err as NodeJS.ErrnoException, 0);
      return;
    }
    written(null, bytes);
  }

  /** Settles the waiters of every line up to sequence number `last`: resolved when written, rejected with `err` otherwise. */
  private settle(last: number, err?: Error): void {
    while (this.waiters.length > 0 && (this.waiters[0] as Waiter).seq <= last) {
      const waiter = this.waiters.shift() as Waiter;
      if (err) waiter.reject(err);
      else waiter.resolve();
    }
  }

  /** One timer, for the oldest waiter: all share one timeout, so it has the earliest deadline. */
  private armTimer(): void {
    const head = this.waiters[0];
    if (this.timer !== undefined || head === undefined) return;
    this.timer = setTimeout(() => this.expire(), Math.max(0, head.deadline - performance.now()));
    this.timer.unref();
  }

  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.waiters.length > 0 && (this.waiters[0] as Waiter).deadline <= now) {
      const waiter = this.waiters.shift() as Waiter;
      this.withdraw(waiter.seq);
      waiter.reject(new LineWriteError("the sink did not accept the line in time"));
    }
    this.armTimer();
  }

  /** Removes a line that is still queued, so that a call that failed closed leaves no line claiming success. */
  private withdraw(seq: number): void {
    const index = seq - this.queueBase;
    const line = this.queue[index];
    if (line === undefined) return;
    this.queue[index] = "";
    this.queuedChars -= line.length;
  }
}

/**
 * Whether `write(2)` on `fd` returns at once, however slow the reader: a pipe or a
 * socket in non-blocking mode, which takes what fits and says EAGAIN for the rest.
 * Those are written inline, at the end of the turn, instead of through the thread
 * pool. A regular file can always block (a full disk's throttling, a hung network
 * mount), and so can a terminal, whatever its flags: they stay on the thread pool.
 * Linux tells a descriptor's flags in /proc; elsewhere every write goes to the pool.
 */
function writeReturnsAtOnce(fd: number): boolean {
  try {
    const stat = fstatSync(fd);
    if (!stat.isFIFO() && !stat.isSocket()) return false;
    const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1];
    return flags !== undefined && (Number.parseInt(flags, 8) & constants.O_NONBLOCK) !== 0;
  } catch {
    return false;
  }
}

let stdout: LineWriter | undefined;

/**
 * How long log lines gather before they go to standard output. Under load, a write
 * per event-loop turn was a pipe write (and a wake-up of the log shipper) for every
 * few calls; 10 ms is no delay anyone reading logs notices. An audit line on
 * standard output is waited for, and so goes out at once.
 */
const stdoutLingerMs = 10;

/**
 * The one writer of standard output in this process, shared by the logger and an
 * audit log without a file. Touching `process.stdout` first makes libuv put a pipe
 * into non-blocking mode, so that a stalled reader (a hung log shipper) shows up as
 * EAGAIN on a timer, never as a thread blocked in `write`.
 */
export function stdoutWriter(): LineWriter {
  if (stdout === undefined) {
    void process.stdout;
    stdout = new LineWriter(1, false, undefined, stdoutLingerMs);
  }
  return stdout;
}
