import { isServiceError } from "../errors/service-error.js";

/** Told of every call to a cloud's API: metrics listen here; the core knows nothing of Prometheus. */
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
  let outcome = "ok";
  try {
    return await call();
  } catch (err) {
    outcome = isServiceError(err) ? err.reason : "UNKNOWN";
    throw err;
  } finally {
    observer(provider, operation, outcome, (performance.now() - started) / 1000);
  }
}
