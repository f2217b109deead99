/**
 * The reason a call's signal aborts with when its deadline passes. Drivers and the
 * core tell a deadline from a cancellation by the name alone ("TimeoutError" versus
 * "AbortError"), as `AbortSignal.timeout` does.
 */
export function deadlineReason(what = "the caller's deadline passed"): DOMException {
  return new DOMException(what, "TimeoutError");
}

/** The reason a call's signal aborts with when the caller goes away. */
export function cancellationReason(): DOMException {
  return new DOMException("the caller canceled", "AbortError");
}

/** True when `signal` aborted because a deadline passed, rather than a cancellation. */
export function abortedByDeadline(signal: AbortSignal): boolean {
  return signal.aborted && (signal.reason as { name?: unknown } | undefined)?.name === "TimeoutError";
}

/**
 * Settles with `work`, or rejects as soon as `signal` aborts (with `abandoned()`, by
 * default the signal's reason), so that nobody waits past its deadline on work that
 * cannot itself be aborted, such as a library call that takes no signal. Drivers pass
 * `() => abandonedError(call, signal)` to reject with the portable error.
 */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal, abandoned: () => unknown = () => signal.reason): Promise<T> {
  if (signal.aborted) return Promise.reject(abandoned());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abandoned());
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** A signal bounded by a deadline, and how to release its timer once the call is over. */
export interface BoundedSignal {
  readonly signal: AbortSignal;
  /** Clears the timer and the listener on the parent; call it when the call ends. */
  dispose(): void;
}

/**
 * A signal that aborts with `parent` (keeping its reason) or when `deadline` (ms
 * since the epoch) passes, with {@link deadlineReason}. It costs one controller and
 * one timer, released by `dispose`.
 */
export function boundedSignal(parent: AbortSignal, deadline: number, what?: string): BoundedSignal {
  const controller = new AbortController();
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, dispose: () => {} };
  }
  const onParentAbort = () => {
    clearTimeout(timer);
    controller.abort(parent.reason);
  };
  const timer = setTimeout(
    () => {
      parent.removeEventListener("abort", onParentAbort);
      controller.abort(deadlineReason(what));
    },
    Math.max(0, deadline - Date.now()),
  );
  parent.addEventListener("abort", onParentAbort, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener("abort", onParentAbort);
    },
  };
}

/**
 * A signal for the core that aborts with `parent` and says why in the way the core
 * understands: a DOMException named "TimeoutError" when `isDeadline` judges the
 * parent's reason to be a passed deadline, "AbortError" otherwise.
 */
export function callSignal(parent: AbortSignal, isDeadline: (reason: unknown) => boolean): AbortSignal {
  const controller = new AbortController();
  const forward = () => controller.abort(isDeadline(parent.reason) ? deadlineReason() : cancellationReason());
  if (parent.aborted) forward();
  else parent.addEventListener("abort", forward, { once: true });
  return controller.signal;
}
