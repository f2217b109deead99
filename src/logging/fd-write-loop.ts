import { write, writeSync } from "node:fs";
import { LineWriteError } from "./line-write-error.js";

/** A descriptor as the write loop sees it. */
export interface WriteTarget {
  readonly fd: number;
  /**
   * Whether `write(2)` returns at once whatever the reader does (a non-blocking pipe
   * or socket): written inline instead of through libuv's thread pool.
   */
  readonly inline: boolean;
  /** Whether the descriptor has been closed: nothing may be written to its number any more. */
  readonly closed: boolean;
}

/** The longest pause between two attempts at a full non-blocking pipe. */
const maxRetryDelayMs = 50;

/**
 * Writes all of `data` to `target`, never blocking the event loop, and calls `done`
 * once: with no error when every byte went out, or with the error that stopped it
 * and how many bytes went out before. A partial write continues where it stopped, so
 * nothing else can come between two parts of `data`. A full non-blocking pipe
 * (EAGAIN) is tried again on a timer, after 1 ms, then twice as long each time up to
 * 50 ms, and at once again after any progress.
 *
 * @private Internal to the line writer.
 */
export function writeAll(
  target: WriteTarget,
  data: Buffer,
  done: (err: NodeJS.ErrnoException | LineWriteError | undefined, written: number) => void,
): void {
  const attempt = (offset: number, retryDelayMs: number) => {
    if (offset === data.length) done(undefined, offset);
    else if (target.closed) done(new LineWriteError("the sink is closed"), offset);
    else if (target.inline) writeInline(target.fd, data, offset, (err, bytes) => written(offset, retryDelayMs, err, bytes));
    else write(target.fd, data, offset, data.length - offset, null, (err, bytes) => written(offset, retryDelayMs, err, bytes));
  };
  const written = (offset: number, retryDelayMs: number, err: NodeJS.ErrnoException | null, bytes: number) => {
    if (err?.code === "EAGAIN") setTimeout(attempt, retryDelayMs, offset, Math.min(retryDelayMs * 2, maxRetryDelayMs)).unref();
    else if (err) done(err, offset);
    else attempt(offset + bytes, 1);
  };
  attempt(0, 1);
}

/** A non-blocking pipe takes what fits and says EAGAIN for the rest: no thread-pool round trip is needed. */
function writeInline(fd: number, data: Buffer, offset: number, done: (err: NodeJS.ErrnoException | null, bytes: number) => void): void {
  let bytes: number;
  try {
    bytes = writeSync(fd, data, offset, data.length - offset);
  } catch (err) {
    done(err as NodeJS.ErrnoException, 0);
    return;
  }
  done(null, bytes);
}
