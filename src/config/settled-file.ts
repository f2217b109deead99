import { readFile, stat } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";
import { type Clock, systemClock } from "../common/clock.js";

/** A file untouched for this long is taken as written whole. */
export const settleQuietMs = 1_000;
/** A file still changing after this long is not read at all. */
export const settleMaxWaitMs = 10_000;

/** Options of {@link readSettledFile}; every one has a production default. */
export interface SettleOptions {
  /** How long the file must stay unchanged. Default {@link settleQuietMs}. */
  quietMs?: number;
  /** The longest wait in all before giving up. Default {@link settleMaxWaitMs}. */
  maxWaitMs?: number;
  /** Compared with the file's modification time. */
  clock?: Clock;
  /** Waits between two reads; a timer by default, a fake clock's advance in tests. */
  sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  /** Abandons the wait (the process is shutting down); the read then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Told each time the file is found changed too recently and the read waits, with how long ago it changed. */
  onWait?: (changedMsAgo: number) => void;
}

/** The file kept changing for longer than the wait allowed. */
export class UnsettledFileError extends Error {
  override readonly name = "UnsettledFileError";
}

/** What one read saw: the content, and the metadata that changes with any write or replacement. */
interface Snapshot {
  text: string;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

/**
 * Reads a text file once its content has settled, so that a file caught half
 * written (an editor saving in two writes, a copy in progress) is never taken for a
 * whole one. The rule: a file whose modification time is already `quietMs` in the
 * past is read at once; otherwise it is read again after `quietMs`, and taken when
 * two reads agree (content, size, modification time, and inode, so a replacement
 * counts as a change), for at most `maxWaitMs` in all. A Kubernetes ConfigMap
 * swaps its files atomically (a symlink swap) and settles at the first check after
 * `quietMs`; an editor's second write restarts the wait.
 *
 * @throws the file system's error when the file cannot be read, and
 *   {@link UnsettledFileError} when it kept changing.
 */
export async function readSettledFile(path: string, options: SettleOptions = {}): Promise<string> {
  const { quietMs = settleQuietMs, maxWaitMs = settleMaxWaitMs, clock = systemClock, signal, onWait } = options;
  const sleep = options.sleep ?? ((ms, abort) => delay(ms, undefined, abort ? { signal: abort } : {}));
  const started = clock.now();
  let last = await snapshot(path);
  if (clock.now() - last.mtimeMs >= quietMs) return last.text;
  for (;;) {
    if (clock.now() + quietMs - started > maxWaitMs)
      throw new UnsettledFileError(`the file kept changing for ${maxWaitMs / 1000} s; it was not read (signal again once it is written)`);
    onWait?.(Math.max(0, clock.now() - last.mtimeMs));
    await sleep(quietMs, signal);
    signal?.throwIfAborted();
    const next = await snapshot(path);
    if (sameSnapshot(last, next)) return next.text;
    last = next;
  }
}

async function snapshot(path: string): Promise<Snapshot> {
  // Metadata first: a write between the two calls then shows as a change at the next comparison.
  const { dev, ino, size, mtimeMs } = await stat(path);
  return { text: await readFile(path, "utf8"), dev, ino, size, mtimeMs };
}

function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.text === b.text;
}
