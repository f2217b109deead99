/** Options of {@link RepeatingPass}. */
export interface RepeatingPassOptions {
  /**
   * One pass. `signal` is aborted once a {@link RepeatingPass.restart} or
   * {@link RepeatingPass.close} has made the pass stale: it should report nothing more.
   */
  readonly pass: (signal: AbortSignal) => Promise<void>;
  /** The pause between the end of one pass and the start of the next. */
  readonly intervalMs: number;
  /** Told when a pass throws (it must not throw itself); the next pass still comes after the interval. Default: nothing. */
  readonly onError?: (err: unknown) => void;
}

/**
 * Runs a pass over something outside the process (files, mounts) now and again
 * `intervalMs` after each pass ends, as the file polls and checks do:
 *
 * 1. Never two passes at once: the next starts only once the last has ended, so a
 *    pass held up by a hung mount delays the next rather than piling up beside it.
 * 2. {@link passed} resolves once a pass that started after the call has ended, so a
 *    change made before the call has been seen: tests wait for it instead of sleeping.
 * 3. Its timer does not keep the process alive, except while someone waits on {@link passed}.
 */
export class RepeatingPass {
  private timer: NodeJS.Timeout | undefined;
  private current = new AbortController();
  private chain: Promise<void> = Promise.resolve();
  /** Passes started so far. */
  private started = 0;
  /** Who waits for a pass that starts after they asked. */
  private waiters: { readonly after: number; readonly resolve: () => void }[] = [];
  private closed = false;

  constructor(private readonly options: RepeatingPassOptions) {}

  /** Starts a pass as soon as the one under way (now stale) has ended, and one every interval after. */
  restart(): void {
    this.current.abort();
    clearTimeout(this.timer);
    const controller = new AbortController();
    this.current = controller;
    this.enqueue(controller.signal);
  }

  /** Resolves once a pass that started after this call has ended (guarantee 2), or once closed. */
  passed(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.timer?.ref();
    return new Promise((resolve) => this.waiters.push({ after: this.started, resolve }));
  }

  /** Stops: a pass under way is stale, no other starts, and every waiter, now or later, is released. */
  close(): void {
    this.closed = true;
    this.current.abort();
    clearTimeout(this.timer);
    for (const { resolve } of this.waiters.splice(0)) resolve();
  }

  private enqueue(signal: AbortSignal): void {
    this.chain = this.chain
      .then(() => this.run(signal))
      .then(() => {
        if (signal.aborted) return;
        this.timer = setTimeout(() => this.enqueue(signal), this.options.intervalMs);
        if (this.waiters.length === 0) this.timer.unref();
      });
  }

  private async run(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const number = ++this.started;
    try {
      await this.options.pass(signal);
    } catch (err) {
      this.options.onError?.(err);
    }
    // A stale pass has been seen by nobody: its waiters wait for the next.
    if (signal.aborted) return;
    const done = this.waiters.filter((waiter) => waiter.after < number);
    this.waiters = this.waiters.filter((waiter) => waiter.after >= number);
    for (const { resolve } of done) resolve();
  }
}
