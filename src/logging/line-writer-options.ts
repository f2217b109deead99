import type { Clock } from "../common/clock.js";

/** Counters of a `LineWriter`, for metrics. */
export interface LineWriterStats {
  /** Lines handed to the kernel. */
  written: number;
  /**
   * Lines that met a failed write (for example ENOSPC on a full disk), each counted
   * once: an awaited line is refused; a fire-and-forget line is kept and tried again.
   */
  failed: number;
  /** Fire-and-forget lines dropped because the queue was full: the sink has been stalled, or failing, for a while. */
  dropped: number;
}

/** Options of `LineWriter`: where lines go, and how they are batched. */
export type LineWriterOptions = BatchingOptions & (DescriptorOptions | FileOptions);

/** Lines go to a descriptor opened by someone else: standard output, or a test's file. */
export interface DescriptorOptions {
  /** An open descriptor; a pipe or socket may be non-blocking, and is then written inline. */
  fd: number;
  /** Whether `close` closes `fd`. Default false. */
  owned?: boolean;
}

/** Lines go to a file by its path, which can be reopened (rotation) and is watched for a move or a deletion. */
export interface FileOptions {
  /** The path, opened for appending (and created, mode 0640) at once. */
  file: string;
  /** The clock of the path's checks (see `FileIdentityCheck`); tests pin it. Default: the system clock. */
  clock?: Clock;
}

/** How a `LineWriter` queues and batches lines. */
export interface BatchingOptions {
  /** The most characters queued; past that, fire-and-forget lines are dropped and awaited ones refused. Default 8 Mi. */
  maxQueuedChars?: number;
  /**
   * How long lines that nobody waits for may gather before they are written: 0 (the
   * default) writes them at the end of the turn. A line that is waited for
   * (`appendAndWait`), `drained` and `close` flush at once.
   */
  lingerMs?: number;
}
