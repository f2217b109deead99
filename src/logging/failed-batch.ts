import type { LineBatch, LineQueue } from "./line-queue.js";
import type { SinkResult } from "./line-sink.js";
import type { LineWaiters } from "./line-waiters.js";
import { LineWriteError } from "./line-write-error.js";
import type { LineWriterStats } from "./line-writer-options.js";

/** The parts of a line writer that the lines of a failed write are settled against. */
export interface WriterParts {
  readonly queue: LineQueue;
  readonly waiters: LineWaiters;
  readonly stats: LineWriterStats;
  /** Whether the writer is closed: nothing is tried again. */
  readonly closed: boolean;
}

/**
 * Settles the lines of a write that failed. Those within the sink's `kept` bytes were
 * written. The others were not (or, for the line the sink owes, not yet):
 * - an awaited one is refused at once, so that its caller fails closed now rather
 *   than at its deadline;
 * - a fire-and-forget one (a denial, a `failed` audit line, a log line) goes back in
 *   front of the queue, in order, as far as the bound allows, to be tried again: a
 *   full disk delays it instead of losing it. The line the sink owes is not queued
 *   again, since the sink completes it.
 * Each line is counted as failed once, however often it is tried.
 *
 * @private Internal to the line writer.
 */
export function settleFailedBatch(batch: LineBatch, { kept, owed }: SinkResult, error: Error, parts: WriterParts): void {
  const { queue, waiters, stats } = parts;
  const code = (error as NodeJS.ErrnoException).code ?? "error";
  const failure = new LineWriteError(error instanceof LineWriteError ? error.message : `the write failed (${code})`, { cause: error });
  const retry: string[] = [];
  let end = 0;
  batch.lines.forEach((line, i) => {
    if (line === "") return; // withdrawn
    const seq = batch.firstSeq + i;
    const start = end;
    end += Buffer.byteLength(line);
    if (end <= kept) {
      stats.written++;
      waiters.settleThrough(seq);
      return;
    }
    if (i >= batch.retried) stats.failed++;
    if (waiters.has(seq)) waiters.reject(seq, failure);
    else if (start >= kept + owed) retry.push(line);
  });
  stats.dropped += parts.closed ? retry.length : queue.requeue(retry);
  // Waiters of withdrawn lines were rejected at their deadline; none is left behind.
  waiters.settleThrough(batch.firstSeq + batch.lines.length - 1, failure);
}
