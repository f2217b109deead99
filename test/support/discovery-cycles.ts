import type { CycleEvent } from "../../src/discovery/account-run.js";

/**
 * Records account discovery's "cycle done" events, so that a test waits for
 * listings to finish instead of sleeping: `await cycles.after(n)` resolves once `n`
 * listings (applied or failed) have ended since the log was made.
 */
export class CycleLog {
  readonly events: CycleEvent[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];

  /** Pass this as `onCycle`. */
  readonly record = (event: CycleEvent): void => {
    this.events.push(event);
    this.waiters = this.waiters.filter((w) => {
      if (this.events.length < w.count) return true;
      w.resolve();
      return false;
    });
  };

  /** Resolves once `count` listings have ended in all; rejects after `timeoutMs` saying how many did. */
  after(count: number, timeoutMs = 10_000): Promise<CycleEvent[]> {
    if (this.events.length >= count) return Promise.resolve(this.events.slice(0, count));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.events.length} of ${count} listings ended within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve(this.events.slice(0, count));
        },
      });
    });
  }

  /** Resolves once `more` listings have ended after those ended so far. */
  next(more = 1): Promise<CycleEvent[]> {
    return this.after(this.events.length + more);
  }
}
