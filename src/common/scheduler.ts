/**
 * Runs work later: the one way background loops (such as account polling) wait, so
 * that tests move time with a fake scheduler instead of sleeping, as SPIRE's and
 * Teleport's tests do with their clocks.
 */
export interface Scheduler {
  /** Runs `task` once, `delayMs` from now; the returned function cancels it if it has not run. */
  schedule(delayMs: number, task: () => void): () => void;
}

/**
 * The real scheduler: `setTimeout`, unreferenced, so that a pending poll never keeps
 * a process alive that has nothing else to do.
 */
export const systemScheduler: Scheduler = {
  schedule(delayMs, task) {
    const timer = setTimeout(task, Math.max(0, delayMs));
    timer.unref();
    return () => clearTimeout(timer);
  },
};
