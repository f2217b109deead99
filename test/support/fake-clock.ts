import type { Clock } from "../../src/common/clock.js";

/** A clock that stands still until a test moves it: no test waits for real time to pass. */
export class FakeClock implements Clock {
  constructor(private ms = Date.UTC(2026, 0, 15, 12, 0, 0)) {}

  now(): number {
    return this.ms;
  }

  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.ms += ms;
  }

  /** Sets the clock to `ms` since the epoch. */
  set(ms: number): void {
    this.ms = ms;
  }
}
