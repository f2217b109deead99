/** The lines a {@link LineQueue} hands over for one write, oldest first. */
export interface LineBatch {
  readonly lines: readonly string[];
  /** The sequence number of `lines[0]`; `lines[i]` has `firstSeq + i`. */
  readonly firstSeq: number;
  /** How many of `lines` were not withdrawn (a withdrawn line is left as ""). */
  readonly live: number;
  /** How many of the first `lines` are tried again after a failed write. */
  readonly retried: number;
}

/**
 * The bounded queue of a line writer: lines waiting for the next write, each with a
 * sequence number that a waiter can name. It holds at most `maxChars` characters, so
 * a sink that stalls costs bounded memory; what does not fit is refused and the
 * caller decides (drop and count, or fail). A queued line can be withdrawn, so that
 * a call that failed closed leaves no line claiming success; lines of a failed write
 * can be put back in front, in their order, to be tried again.
 *
 * @private Internal to the line writer.
 */
export class LineQueue {
  private lines: string[] = [];
  private chars = 0;
  private withdrawn = 0;
  /** How many of the first `lines` were put back by {@link requeue}. */
  private retried = 0;
  /** Sequence number of `lines[0]`. */
  private base = 0;
  private sealed = false;

  constructor(private readonly maxChars: number) {}

  /** Whether nothing is queued. */
  get empty(): boolean {
    return this.lines.length === 0;
  }

  /** Whether {@link seal} was called: every later line is refused. */
  get isSealed(): boolean {
    return this.sealed;
  }

  /** Queues `line` and returns its sequence number, or `undefined` when the queue is sealed or the line does not fit. */
  push(line: string): number | undefined {
    if (this.sealed || this.chars + line.length > this.maxChars) return undefined;
    this.lines.push(line);
    this.chars += line.length;
    return this.base + this.lines.length - 1;
  }

  /** Removes the line `seq` if it is still queued; a line already handed to a write stays. */
  withdraw(seq: number): void {
    const index = seq - this.base;
    const line = this.lines[index];
    if (line === undefined || line === "") return;
    this.lines[index] = "";
    this.chars -= line.length;
    this.withdrawn++;
  }

  /** Hands over everything queued, as one batch, and empties the queue. */
  take(): LineBatch {
    const batch = { lines: this.lines, firstSeq: this.base, live: this.lines.length - this.withdrawn, retried: this.retried };
    this.base += this.lines.length;
    this.lines = [];
    this.chars = 0;
    this.withdrawn = 0;
    this.retried = 0;
    return batch;
  }

  /**
   * Puts `lines` (older than everything queued, oldest first) back in front, as far
   * as the bound allows: the oldest first, since they were promised first. Returns
   * how many did not fit. They get new sequence numbers below those queued; nobody
   * waits for them (a caller waiting for a line is answered when its write fails).
   */
  requeue(lines: readonly string[]): number {
    let fits = 0;
    let chars = this.chars;
    while (fits < lines.length && chars + (lines[fits] as string).length <= this.maxChars) chars += (lines[fits++] as string).length;
    if (fits > 0) {
      this.lines = [...lines.slice(0, fits), ...this.lines];
      this.chars = chars;
      this.base -= fits;
      this.retried += fits;
    }
    return lines.length - fits;
  }

  /** Refuses every later line; those queued stay, to be written. */
  seal(): void {
    this.sealed = true;
  }
}
