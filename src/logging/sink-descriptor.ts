import { close, constants, fstat, fstatSync, open, openSync, readFileSync, type Stats } from "node:fs";
import type { WriteTarget } from "./fd-write-loop.js";
import { LineWriteError } from "./line-write-error.js";

/** An open descriptor of a line sink, and what the sink needs to know about it. */
export interface SinkDescriptor extends WriteTarget {
  /**
   * Whether `write(2)` returns at once, however slow the reader: a pipe or a socket in
   * non-blocking mode, which takes what fits and says EAGAIN for the rest. Those are
   * written inline, at the end of the turn, instead of through the thread pool. A
   * regular file can always block (a full disk's throttling, a hung network mount),
   * and so can a terminal, whatever its flags: they stay on the thread pool.
   */
  readonly inline: boolean;
  /** Whether it is a regular file: one whose link count and identity (device, inode) can be compared with its path's. */
  readonly regularFile: boolean;
  /** Set once the sink lets it go: nothing is written to it after that. */
  closed: boolean;
}

/** Non-blocking: a FIFO without a reader is refused (ENXIO) instead of hanging, and a stalled one says EAGAIN. */
const appendFlags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK;
const fileMode = 0o640;

/** What this process knows of a descriptor it opened itself, with O_NONBLOCK, from its `fstat`. */
function opened(fd: number, stat: Stats): SinkDescriptor {
  return { fd, inline: stat.isFIFO() || stat.isSocket(), regularFile: stat.isFile(), closed: false };
}

/** Opens `path` for appending, at start-up. @throws when it cannot be opened (a FIFO without a reader included). */
export function openAppendingSync(path: string): SinkDescriptor {
  const fd = openSync(path, appendFlags, fileMode);
  return opened(fd, fstatSync(fd));
}

/** Opens `path` for appending, on the thread pool: a reopen while serving. */
export function openAppending(path: string, done: (err: LineWriteError | undefined, descriptor?: SinkDescriptor) => void): void {
  const cannotOpen = (err: NodeJS.ErrnoException) => new LineWriteError(`cannot open ${path} (${err.code ?? "error"})`, { cause: err });
  open(path, appendFlags, fileMode, (openErr, fd) => {
    if (openErr) {
      done(cannotOpen(openErr));
      return;
    }
    fstat(fd, (statErr, stat) => {
      if (!statErr) {
        done(undefined, opened(fd, stat));
        return;
      }
      close(fd, () => {});
      done(cannotOpen(statErr));
    });
  });
}

/**
 * What is known of a descriptor opened by someone else (standard output): whether it
 * is non-blocking is in its flags, which Linux tells in /proc. Elsewhere, or when
 * anything fails, every write goes to the thread pool, which is always safe.
 */
export function inheritedDescriptor(fd: number): SinkDescriptor {
  const descriptor = (inline: boolean, regularFile: boolean) => ({ fd, inline, regularFile, closed: false });
  try {
    const stat = fstatSync(fd);
    if (!stat.isFIFO() && !stat.isSocket()) return descriptor(false, stat.isFile());
    const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1];
    return descriptor(flags !== undefined && (Number.parseInt(flags, 8) & constants.O_NONBLOCK) !== 0, false);
  } catch {
    return descriptor(false, false);
  }
}
