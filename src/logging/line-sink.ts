import { close } from "node:fs";
import { type Clock, systemClock } from "../common/clock.js";
import { writeAll } from "./fd-write-loop.js";
import { FileIdentityCheck } from "./file-identity.js";
import { LineWriteError } from "./line-write-error.js";
import { inheritedDescriptor, openAppending, openAppendingSync, type SinkDescriptor as Descriptor } from "./sink-descriptor.js";

/** What became of one batch handed to {@link LineSink.write}. */
export interface SinkResult {
  /** How many bytes of the batch are in the sink, as whole lines: all of them, unless `error`. */
  readonly kept: number;
  /** How many bytes past `kept` belong to the line the failure tore, which the sink completes before anything else. */
  readonly owed: number;
  readonly error?: Error;
}

/** A line torn by a failed write: the sink writes its rest, from `from`, before anything else. */
interface TornLine {
  readonly line: Buffer;
  from: number;
}

/** A pending request to reopen the path. */
interface Reopen {
  readonly done: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

/** How many times a batch is written again to a new file because the one it went to was deleted meanwhile. */
const maxRewrites = 2;
const newline = 0x0a;
const ignore = () => {};

/**
 * Where a line writer's batches go: a descriptor, or a file by its path. It never
 * glues a line to a fragment and, for a path, never writes to a file nobody can read:
 *
 * - A write that fails part-way (ENOSPC, EFBIG) leaves the start of a line in the
 *   file. Its rest is written before anything else, once there is room, so the next
 *   line always starts on a line of its own. The file only grows: cutting the
 *   fragment off instead would make a log shipper that tails the file see it shrink
 *   (and read it again from the start), at every failed try while the disk is full.
 * - {@link reopen} opens the path anew before the next write (rotation by moving
 *   the file, then a signal): nothing is written to the old file after it. A line torn
 *   in the old file is written whole to the new one.
 * - After each batch to a regular file, what became of the file is checked off the
 *   event loop (see {@link FileIdentityCheck}). A file moved away got its lines (someone
 *   can read them), and the path is reopened for the next batch; a deleted one (no link
 *   left) did not, so the batch is written again to a new file at the path.
 *   A path that cannot be opened fails every write until it can: the caller fails closed.
 *
 * @private Internal to the line writer.
 */
export class LineSink {
  private current: Descriptor | undefined;
  private torn: TornLine | undefined;
  private reopening: Reopen | undefined;
  private closed = false;
  /** Whether a write is in progress: descriptors released meanwhile are closed once it ends, never under it. */
  private busy = false;
  private readonly retired: Descriptor[] = [];
  private readonly identity: FileIdentityCheck | undefined;

  private constructor(
    current: Descriptor,
    private readonly owned: boolean,
    private readonly path: string | undefined,
    clock: Clock,
  ) {
    this.current = current;
    this.identity = path === undefined ? undefined : new FileIdentityCheck(path, clock);
  }

  /** A sink on `fd`, which {@link close} closes when `owned`. */
  static ofDescriptor(fd: number, owned: boolean): LineSink {
    return new LineSink(inheritedDescriptor(fd), owned, undefined, systemClock);
  }

  /** A sink appending to `path`, opened now. @throws when it cannot be opened (a FIFO without a reader included). */
  static openFile(path: string, clock: Clock = systemClock): LineSink {
    return new LineSink(openAppendingSync(path), true, path, clock);
  }

  /** Whether the next write must reopen the path first, even with no line to write. */
  get reopenPending(): boolean {
    return this.reopening !== undefined;
  }

  /**
   * Opens the path anew at the next write; resolves once it is open, and rejects when
   * it cannot be opened (every write then fails until it can). Nothing is written to
   * the old file after that point. A sink on a descriptor has nothing to reopen.
   */
  reopen(): Promise<void> {
    if (this.path === undefined || this.closed) return Promise.resolve();
    this.reopening ??= reopenRequest();
    return this.reopening.done;
  }

  /** Writes `data` (whole lines), then calls `done` once; one write at a time. */
  write(data: Buffer, done: (result: SinkResult) => void): void {
    this.busy = true;
    const finish = (result: SinkResult) => {
      this.busy = false;
      for (const retired of this.retired.splice(0)) this.closeDescriptor(retired);
      done(result);
    };
    const fail = (error: Error) => finish({ kept: 0, owed: 0, error });
    if (this.closed) {
      fail(new LineWriteError("the sink is closed"));
    } else if (this.current === undefined || this.reopening !== undefined) {
      this.openPath((err) => (err ? fail(err) : this.writeBatch(data, 0, finish)));
    } else {
      this.writeBatch(data, 0, finish);
    }
  }

  /** Writes nothing more; closes the descriptor if owned, once no write is using it. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reopening?.reject(new LineWriteError("the sink is closed"));
    this.reopening = undefined;
    this.release();
  }

  /** Writes the rest of a torn line, if any, then the batch, as one buffer. */
  private writeBatch(data: Buffer, rewrites: number, done: (result: SinkResult) => void): void {
    const d = this.current as Descriptor;
    const torn = this.torn;
    const rest = torn?.line.subarray(torn.from);
    const out = rest === undefined ? data : Buffer.concat([rest, data]);
    writeAll(d, out, (err, written) => {
      if (err) {
        this.tore(data, written - (rest?.length ?? 0), err, done);
      } else {
        this.torn = undefined;
        if (this.identity === undefined || !d.regularFile || out.length === 0) done({ kept: data.length, owed: 0 });
        else this.verify(d, this.identity, torn, data, rewrites, done);
      }
    });
  }

  /**
   * After a write failed with `written` bytes of `data` out (negative: the rest of the
   * torn line before it was not all out): the lines wholly out are kept; a line out in
   * part is torn, and owed.
   */
  private tore(data: Buffer, written: number, error: Error, done: (result: SinkResult) => void): void {
    if (written < 0) {
      (this.torn as TornLine).from = (this.torn as TornLine).line.length + written;
      done({ kept: 0, owed: 0, error });
      return;
    }
    const kept = written === 0 ? 0 : data.lastIndexOf(newline, written - 1) + 1;
    if (kept === written) {
      this.torn = undefined;
      done({ kept, owed: 0, error });
      return;
    }
    const end = data.indexOf(newline, written) + 1 || data.length;
    this.torn = { line: data.subarray(kept, end), from: written - kept };
    done({ kept, owed: end - kept, error });
  }

  /** After a batch to a regular file: did its lines go where someone can read them? */
  private verify(
    d: Descriptor,
    identity: FileIdentityCheck,
    completed: TornLine | undefined,
    data: Buffer,
    rewrites: number,
    done: (result: SinkResult) => void,
  ): void {
    const path = this.path as string;
    identity.check(d.fd, (became) => {
      if (became === "same") {
        done({ kept: data.length, owed: 0 });
      } else if (became === "moved") {
        process.emitWarning(`${path} was moved or replaced; the next lines go to a new file at that path`, { code: "CTS_FILE_MOVED" });
        this.reopening ??= reopenRequest();
        this.reopening.done.catch(ignore);
        done({ kept: data.length, owed: 0 });
      } else if (rewrites >= maxRewrites) {
        done({ kept: 0, owed: 0, error: new LineWriteError(`${path} keeps being deleted while it is written`) });
      } else {
        process.emitWarning(`${path} was deleted; its last lines are written again to a new file at that path`, {
          code: "CTS_FILE_DELETED",
        });
        // A torn line completed in the deleted file goes whole to the new one, with the batch.
        this.torn = completed;
        this.openPath((err) => (err ? done({ kept: 0, owed: 0, error: err }) : this.writeBatch(data, rewrites + 1, done)));
      }
    });
  }

  /**
   * Opens the path and makes it the current descriptor; the old one is released
   * either way, so that a moved or deleted file is never written again. Settles a
   * pending reopen request.
   */
  private openPath(done: (err?: Error) => void): void {
    const path = this.path as string;
    const request = this.reopening;
    this.reopening = undefined;
    openAppending(path, (err, opened) => {
      if (opened !== undefined && !this.closed) {
        // The old descriptor is closed after the new one is open, so that a FIFO's reader never sees its end.
        this.release();
        this.current = opened;
        this.identity?.opened();
        if (this.torn !== undefined) this.torn.from = 0; // a line torn in the old file goes whole to the new one
        request?.resolve();
        done();
        return;
      }
      if (opened !== undefined) close(opened.fd, ignore);
      const error = err ?? new LineWriteError("the sink is closed");
      this.release();
      request?.reject(error);
      done(error);
    });
  }

  private release(): void {
    const d = this.current;
    this.current = undefined;
    if (d === undefined) return;
    d.closed = true;
    if (this.busy) this.retired.push(d);
    else this.closeDescriptor(d);
  }

  /** A closed descriptor's number can be handed to another file at once, so this happens only when no write uses it. */
  private closeDescriptor(d: Descriptor): void {
    if (this.owned) close(d.fd, ignore);
  }
}

function reopenRequest(): Reopen {
  let resolve = ignore;
  let reject: (err: Error) => void = ignore;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { done, resolve, reject };
}
