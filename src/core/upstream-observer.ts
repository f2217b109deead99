import { isServiceError } from "../errors/service-error.js";

/** The outcome of an upstream call that succeeded; any other outcome is an error reason. */
export const upstreamOk = "ok";

/**
 * Told of every call to a cloud's API, in the async context of the call that made it:
 * metrics and tracing listen here; the core knows nothing of Prometheus or OpenTelemetry.
 */
export type UpstreamObserver = (provider: string, operation: string, outcome: string, seconds: number) => void;

/**
 * Runs one call to a cloud's API and reports it to `observer`: its duration and its
 * outcome, "ok" or the error reason (a closed set, so metric labels stay bounded).
 */
export async function observeUpstream<T>(
  observer: UpstreamObserver | undefined,
  provider: string,
  operation: string,
  call: () => Promise<T>,
): Promise<T> {
  if (!observer) return call();
  const started = performance.now();
  let outcome: string = upstreamOk;
  try {
    return await call();
  } catch (err) {
    outcome = isServiceError(err) ? err.reason : "UNKNOWN";
    throw err;
  } finally {
    observer(provider, operation, outcome, (performance.now() - started) / 1000);
  }
}
