import { type LineBatch, LineQueue } from "./line-queue.js";
import { settleFailedBatch } from "./failed-batch.js";
import { LineSink, type SinkResult } from "./line-sink.js";
import { LineWaiters } from "./line-waiters.js";
import { LineWriteError } from "./line-write-error.js";
import type { BatchingOptions, FileOptions, LineWriterOptions, LineWriterStats } from "./line-writer-options.js";

export { LineWriteError } from "./line-write-error.js";
export type { BatchingOptions, DescriptorOptions, FileOptions, LineWriterOptions, LineWriterStats } from "./line-writer-options.js";

/**
 * Where the writer stands between batches (the queue says whether it still takes lines):
 * - `idle`: nothing to write, or nothing started yet;
 * - `waiting`: a timer starts the next batch, for lingering lines or a retry after a failed write;
 * - `scheduled`: the next batch starts at the end of this turn;
 * - `writing`: a batch (or a reopen) is with the sink;
 * - `closed`: the sink is closed, and nothing more is written.
 */
type WriterState = "idle" | "waiting" | "scheduled" | "writing" | "closed";

/** The first pause before fire-and-forget lines of a failed write are tried again; it doubles up to {@link maxFailedRetryDelayMs}. */
const firstFailedRetryDelayMs = 50;
/** The longest pause between two tries of a failing sink: lines owed come out within this of the disk having room. */
const maxFailedRetryDelayMs = 1_000;
const defaultMaxQueuedChars = 8 * 1024 * 1024;

/**
 * An ordered, asynchronous writer of whole lines to one sink, shared by everything
 * that writes there, so that lines from the logger and the audit log never interleave.
 *
 * It never blocks the event loop. Lines are queued and written by one write at a time;
 * whatever arrives while a write is in flight goes out together in the next one. That
 * is group commit, as databases do it: a caller that must know its line is written
 * ({@link appendAndWait}) waits for the write that carries it, and throughput grows
 * with load instead of paying one system call per line. A full non-blocking pipe
 * (EAGAIN) is retried with backoff on a timer; a partial write continues where it
 * stopped, so a line is never split by another (see `fd-write-loop.ts`); a write that
 * fails part-way leaves no torn line (see `line-sink.ts`).
 *
 * Everything is bounded: each waiter gives up at its own deadline (and its line is
 * withdrawn if it has not reached the kernel yet), and the queue holds at most
 * `maxQueuedChars` characters; past that, fire-and-forget lines are dropped and
 * counted, awaited ones refused. Fire-and-forget lines of a failed write are tried
 * again with backoff while the bound allows, not thrown away; an awaited line's
 * caller is told at once instead.
 *
 * pino's sonic-boom is asynchronous too, but it cannot tell a caller when its own line
 * has been written, which is what failing closed needs.
 */
export class LineWriter {
  readonly stats: LineWriterStats = { written: 0, failed: 0, dropped: 0 };
  private state: WriterState = "idle";
  private readonly queue: LineQueue;
  private readonly waiters = new LineWaiters((seq) => this.queue.withdraw(seq));
  private readonly sink: LineSink;
  private readonly lingerMs: number;
  /** The linger or retry timer of the `waiting` state. */
  private timer: NodeJS.Timeout | undefined;
  /** 0 while writes succeed; otherwise the pause before fire-and-forget lines are tried again. */
  private retryDelayMs = 0;
  /** Callers of {@link drained}. */
  private readonly idle: (() => void)[] = [];

  constructor(options: LineWriterOptions) {
    this.sink =
      "file" in options ? LineSink.openFile(options.file, options.clock) : LineSink.ofDescriptor(options.fd, options.owned ?? false);
    this.queue = new LineQueue(options.maxQueuedChars ?? defaultMaxQueuedChars);
    this.lingerMs = options.lingerMs ?? 0;
  }

  /**
   * Opens `file` for appending, without blocking: a FIFO without a reader is refused
   * (ENXIO) instead of hanging start-up, and one whose reader stops makes writes
   * return EAGAIN instead of blocking a thread. @throws when it cannot be opened.
   */
  static openFile(file: string, options: BatchingOptions & Omit<FileOptions, "file"> = {}): LineWriter {
    return new LineWriter({ ...options, file });
  }

  /** Queues `line` (which ends in "\n") and returns at once; a full queue drops it. */
  append(line: string): void {
    if (this.queue.push(line) === undefined) this.stats.dropped++;
    else this.schedule();
  }

  /**
   * Queues `line` and resolves once the write carrying it has completed. Rejects with
   * a {@link LineWriteError} when that write fails, when `timeoutMs` passes first (the
   * line is then withdrawn unless it already reached the kernel), when the queue is
   * full, or after {@link close}.
   */
  appendAndWait(line: string, timeoutMs: number): Promise<void> {
    if (this.queue.isSealed) return Promise.reject(new LineWriteError("the sink is closed"));
    const seq = this.queue.push(line);
    if (seq === undefined) return Promise.reject(new LineWriteError("the sink has been stalled long enough to fill its queue"));
    return new Promise<void>((resolve, reject) => {
      this.waiters.add(seq, timeoutMs, resolve, reject);
      this.schedule();
    });
  }

  /**
   * Resolves once every line queued so far is written or failed, or after `timeoutMs`.
   * The process stays up for that long at most, even when nothing else holds it.
   */
  drained(timeoutMs: number): Promise<void> {
    if (this.state === "closed" || (this.queue.empty && this.state !== "writing" && this.state !== "scheduled")) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.schedule();
    });
  }

  /**
   * Opens a file sink's path anew before the next line (rotation by moving the file,
   * then a signal), and resolves once it is open; rejects when it cannot be opened,
   * and every awaited line then fails until it can. No line is written to the old
   * file after this call. A no-op for a descriptor (standard output).
   */
  reopen(): Promise<void> {
    const reopened = this.sink.reopen();
    this.schedule();
    return reopened;
  }

  /** Refuses new lines, lets queued ones go out for up to `timeoutMs`, then closes the descriptor if owned. */
  async close(timeoutMs = 2_000): Promise<void> {
    if (this.queue.isSealed) return;
    this.queue.seal();
    await this.drained(timeoutMs);
    clearTimeout(this.timer);
    this.state = "closed";
    this.waiters.settleThrough(Number.POSITIVE_INFINITY, new LineWriteError("the sink is closed"));
    this.sink.close();
  }

  /**
   * Starts the next batch at the end of this event-loop turn (setImmediate runs right
   * after the turn's I/O callbacks), so that every line appended while this turn's
   * requests are handled goes out in one write, which completes by the next turn.
   * Lines that nobody waits for gather for {@link BatchingOptions.lingerMs} first, or,
   * after a failed write, for the retry delay: under load, one write then carries the
   * lines of many turns. As soon as someone waits (an awaited line, a reopen, and
   * {@link drained} unless writes are failing), a waiting batch starts this turn instead.
   */
  private schedule(): void {
    if (this.state === "writing" || this.state === "scheduled" || this.state === "closed") return;
    if (this.queue.empty && !this.sink.reopenPending) {
      clearTimeout(this.timer);
      this.state = "idle";
      for (const done of this.idle.splice(0)) done();
      return;
    }
    const delayMs = this.nextBatchDelayMs();
    if (delayMs === 0) {
      clearTimeout(this.timer);
      this.state = "scheduled";
      setImmediate(this.writeNext);
    } else if (this.state === "idle") {
      this.state = "waiting";
      this.timer = setTimeout(this.writeNext, delayMs);
      // A process whose work is done still writes its lingering lines before it exits, but does not stay to retry a failing sink.
      if (this.retryDelayMs > 0) this.timer.unref();
    }
  }

  private nextBatchDelayMs(): number {
    if (this.waiters.size > 0 || this.sink.reopenPending) return 0;
    if (this.retryDelayMs > 0) return this.retryDelayMs;
    return this.idle.length > 0 ? 0 : this.lingerMs;
  }

  /** Takes everything queued and hands it to the sink as one buffer. */
  private readonly writeNext = (): void => {
    if (this.state === "closed") return;
    this.state = "writing";
    const batch = this.queue.take();
    const data = Buffer.from(batch.lines.join(""));
    this.sink.write(data, (result) => this.batchDone(batch, result));
  };

  private batchDone(batch: LineBatch, result: SinkResult): void {
    if (result.error === undefined) {
      this.stats.written += batch.live;
      this.waiters.settleThrough(batch.firstSeq + batch.lines.length - 1);
      this.retryDelayMs = 0;
    } else {
      const { queue, waiters, stats } = this;
      settleFailedBatch(batch, result, result.error, { queue, waiters, stats, closed: this.state === "closed" });
      this.retryDelayMs = Math.min(Math.max(this.retryDelayMs * 2, firstFailedRetryDelayMs), maxFailedRetryDelayMs);
    }
    if (this.state === "closed") return;
    this.state = "idle";
    this.schedule();
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
    stdout = new LineWriter({ fd: 1, lingerMs: stdoutLingerMs });
  }
  return stdout;
}
