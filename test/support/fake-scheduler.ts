import type { Scheduler } from "../../src/common/scheduler.js";
import { FakeClock } from "./fake-clock.js";

interface Task {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

/**
 * A scheduler on a {@link FakeClock}: nothing runs until the test moves time with
 * `advance`, which runs every task due by then, in time order, with the clock set to
 * each task's time. No test waits for real time to pass.
 */
export class FakeScheduler implements Scheduler {
  private tasks: Task[] = [];
  private seq = 0;

  constructor(readonly clock = new FakeClock()) {}

  schedule(delayMs: number, run: () => void): () => void {
    const task = { at: this.clock.now() + Math.max(0, delayMs), seq: this.seq++, run };
    this.tasks.push(task);
    return () => {
      this.tasks = this.tasks.filter((t) => t !== task);
    };
  }

  /** The delays from now of the tasks waiting, soonest first. */
  pending(): number[] {
    return this.tasks.map((t) => t.at - this.clock.now()).sort((a, b) => a - b);
  }

  /** Moves the clock forward by `ms`, running each task that falls due, in order. */
  advance(ms: number): void {
    const until = this.clock.now() + ms;
    for (;;) {
      const due = this.tasks.filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.tasks = this.tasks.filter((t) => t !== due);
      if (due.at > this.clock.now()) this.clock.set(due.at);
      due.run();
    }
    this.clock.set(until);
  }
}
