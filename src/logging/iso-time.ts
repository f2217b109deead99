let lastMs = Number.NaN;
let lastIso = "";

/**
 * The current time as RFC 3339 with milliseconds, as `new Date().toISOString()`
 * gives it, formatted once per millisecond: under load, the access-log and audit
 * lines of the calls answered in one millisecond share one string.
 */
export function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}
