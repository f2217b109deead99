/**
 * At most `limit` holders at once; the others wait in arrival order. Each waiter
 * stops waiting when its own signal aborts, so a wait is never longer than its
 * caller's deadline, and a slot is handed on the moment it is released.
 */
export class ConcurrencyLimit {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private limit: number) {}

  /** Changes the limit (on a reload); holders above a lowered limit finish, and nobody new starts until below it. */
  setLimit(limit: number): void {
    this.limit = limit;
    this.wake();
  }

  /** How many hold a slot now. */
  get holders(): number {
    return this.active;
  }

  /**
   * Waits for a slot and returns the function that releases it (once; later calls
   * do nothing). Rejects with `signal.reason` when `signal` aborts first.
   */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener("abort", onAbort);
        this.active++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.active--;
          this.wake();
        });
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(grant);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(grant);
      this.wake();
    });
  }

  private wake(): void {
    while (this.active < this.limit) {
      const next = this.waiting.shift();
      if (!next) return;
      next();
    }
  }
}
