import { type BigIntStats, fstat, stat } from "node:fs";

/** What became of the file a descriptor was opened from. */
export type FileIdentity = "same" | "moved" | "deleted";

/**
 * Whether `fd` is still the file at `path`: "deleted" when it has no link left (its
 * lines can be read by nobody), "moved" when the path names another file or none.
 * Both `fstat` and `stat` run on the thread pool at once. When the descriptor cannot
 * be examined, the write that succeeded stands.
 */
export function fileIdentity(fd: number, path: string, done: (identity: FileIdentity) => void): void {
  let fdStats: BigIntStats | undefined;
  let pathStats: BigIntStats | undefined;
  let pending = 2;
  const settle = () => {
    if (--pending > 0) return;
    if (fdStats === undefined) done("same");
    else if (fdStats.nlink === 0n) done("deleted");
    else done(pathStats !== undefined && pathStats.ino === fdStats.ino && pathStats.dev === fdStats.dev ? "same" : "moved");
  };
  fstat(fd, { bigint: true }, (err, stats) => {
    if (!err) fdStats = stats;
    settle();
  });
  stat(path, { bigint: true }, (err, stats) => {
    if (!err) pathStats = stats;
    settle();
  });
}
