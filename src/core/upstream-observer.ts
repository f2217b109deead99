import { failedBeforeAnyCloud } from "../errors/error-reasons.js";
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
 * A call that failed before it reached any cloud (a secret reference that cannot be
 * resolved, a malformed key: see `failedBeforeAnyCloud`) is not reported at all,
 * neither as a metric nor as a span, since it says nothing of the cloud; the caller
 * still gets its error, and its call's span records it.
 */
export async function observeUpstream<T>(
  observer: UpstreamObserver | undefined,
  provider: string,
  operation: string,
  call: () => Promise<T>,
): Promise<T> {
  if (!observer) return call();
  const started = performance.now();
  let outcome: string | undefined = upstreamOk;
  try {
    return await call();
  } catch (err) {
    outcome = upstreamOutcome(err);
    throw err;
  } finally {
    if (outcome !== undefined) observer(provider, operation, outcome, (performance.now() - started) / 1000);
  }
}

/** The outcome label of a failed call to a cloud, or undefined when it never reached one. */
function upstreamOutcome(err: unknown): string | undefined {
  if (!isServiceError(err)) return "UNKNOWN";
  return failedBeforeAnyCloud(err.reason) ? undefined : err.reason;
}
