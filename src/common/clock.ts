/**
 * The one clock of the service: wall-clock time in milliseconds since the epoch.
 * Everything that signs, expires or compares times takes a `Clock` instead of
 * calling `Date.now()`, so that tests pin time and advance it instead of sleeping
 * (as aws-iam-authenticator's `nowFunc` and SPIRE's `test/clock` do). Durations of a
 * single operation (how long a call took) are measured with `performance.now()`
 * and are not the clock's business.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };
