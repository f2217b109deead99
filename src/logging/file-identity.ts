import { fstat, type Stats, stat } from "node:fs";
import type { Clock } from "../common/clock.js";

/** What became of the file a descriptor was opened from. */
export type FileIdentity = "same" | "moved" | "deleted";

/**
 * How often the path is compared with the descriptor. A moved file still gets its
 * lines (someone can read them), so a move may be noticed late; a `stat` of the path
 * per batch would cost a thread-pool round trip per batch for that.
 */
const pathCheckIntervalMs = 1_000;

/**
 * Tells, after a write to a file opened from `path`, what became of that file,
 * without blocking the event loop:
 * - "deleted" when the descriptor has no link left: nobody can read its lines. An
 *   `fstat` (one thread-pool round trip) after every write tells, so that a caller
 *   waiting for its line is never answered while the line sits in a deleted file.
 * - "moved" when the path names another file, or none: checked with a `stat` of the
 *   path alongside, at most once a second.
 * When the descriptor cannot be examined, the write that succeeded stands ("same").
 *
 * @private Internal to the line writer.
 */
export class FileIdentityCheck {
  private pathCheckedAt: number;

  constructor(
    private readonly path: string,
    private readonly clock: Clock,
  ) {
    this.pathCheckedAt = clock.now();
  }

  /** A descriptor was just opened from the path: the path names it. */
  opened(): void {
    this.pathCheckedAt = this.clock.now();
  }

  /** What became of the file `fd` was opened from. */
  check(fd: number, done: (identity: FileIdentity) => void): void {
    const now = this.clock.now();
    const checkPath = now - this.pathCheckedAt >= pathCheckIntervalMs;
    if (checkPath) this.pathCheckedAt = now;
    let fdStats: Stats | undefined;
    let pathStats: Stats | undefined;
    let pending = checkPath ? 2 : 1;
    const settle = () => {
      if (--pending > 0) return;
      if (fdStats === undefined) done("same");
      else if (fdStats.nlink === 0) done("deleted");
      else if (checkPath && (pathStats === undefined || pathStats.ino !== fdStats.ino || pathStats.dev !== fdStats.dev)) done("moved");
      else done("same");
    };
    fstat(fd, (err, stats) => {
      if (!err) fdStats = stats;
      settle();
    });
    if (!checkPath) return;
    stat(this.path, (err, stats) => {
      if (!err) pathStats = stats;
      settle();
    });
  }
}
