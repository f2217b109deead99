import { stat } from "node:fs/promises";
import { RepeatingPass } from "./repeating-pass.js";

/** Options of {@link FileChangePoll}. */
export interface FileChangePollOptions {
  /** The files to watch, by path; a symbolic link is followed, so a Kubernetes Secret's atomic swap counts. */
  readonly files: readonly string[];
  /** The pause between two polls: a change is reported at most this long (plus one poll) after it happened. */
  readonly intervalMs: number;
  /** Told of each file whose identity, size or times changed since the last poll, or that appeared or vanished. */
  readonly onChange: (file: string) => void;
}

/**
 * Notices changed files by polling `stat` (device, inode, size, modification and
 * change times in nanoseconds), without reading them and without `fs.watch`, which
 * misses the symlink swaps of mounted Secrets and ConfigMaps. Bounded: one `stat`
 * at a time, so a hung mount holds one thread of libuv's pool, never more, and the
 * next poll starts only once the last has ended ({@link RepeatingPass}). The first
 * poll takes the baseline and reports nothing. Its timer does not keep the process alive.
 */
export class FileChangePoll {
  private readonly signatures = new Map<string, string>();
  private readonly polls: RepeatingPass;

  constructor(private readonly options: FileChangePollOptions) {
    this.polls = new RepeatingPass({ pass: (signal) => this.poll(signal), intervalMs: options.intervalMs });
    if (options.files.length > 0) this.polls.restart();
  }

  /**
   * Resolves once a poll that started after this call has ended, so a change made
   * before the call has been seen: tests wait for this instead of sleeping. While
   * someone waits, the poll keeps the process alive.
   */
  polled(): Promise<void> {
    return this.polls.passed();
  }

  /** Stops polling; a poll under way reports nothing more. */
  close(): void {
    this.polls.close();
  }

  private async poll(signal: AbortSignal): Promise<void> {
    for (const file of this.options.files) {
      const signature = await fileSignature(file);
      if (signal.aborted) return;
      const known = this.signatures.get(file);
      this.signatures.set(file, signature);
      // The first poll takes the baseline.
      if (known !== undefined && known !== signature) this.options.onChange(file);
    }
  }
}

/** What identifies a file's content without reading it; a failed `stat` (a missing file) is a signature too. */
async function fileSignature(file: string): Promise<string> {
  try {
    const s = await stat(file, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch (err) {
    return `unreadable:${(err as NodeJS.ErrnoException).code ?? "error"}`;
  }
}
