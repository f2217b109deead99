import type { Clock } from "../common/clock.js";

/**
 * One timer for a queue whose entries come due in the order they arrived (every
 * entry has the same timeout): it is armed for the oldest entry alone, and whoever
 * handles it arms it again for the next. It never keeps the process alive.
 */
export class OldestFirstTimer {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly onDue: () => void,
  ) {}

  /** Arms the timer for `dueAt` (ms since the epoch, on the clock), unless it is armed already or nothing is due. */
  arm(dueAt: number | undefined): void {
    if (dueAt === undefined || this.timer !== undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.onDue();
      },
      Math.max(0, dueAt - this.clock.now()),
    );
    this.timer.unref();
  }
}
