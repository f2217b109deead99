import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { withRetries } from "../../src/core/upstream-retry.js";
import { ServiceError } from "../../src/errors/service-error.js";
import { serviceFailure } from "../support/service-failure.js";

const unavailable = () =>
  new ServiceError({ reason: "UPSTREAM_UNAVAILABLE", message: "aws sts:AssumeRole failed (HTTP 503); retry later" });
const budget = (ms: number) => ({ signal: AbortSignal.timeout(ms), deadline: Date.now() + ms });

/** An attempt that fails with `errors` in turn, then succeeds; it counts its calls. */
function flaky(...errors: Error[]) {
  const attempt = async () => {
    attempt.calls++;
    const err = errors.shift();
    if (err) throw err;
    return "ok";
  };
  attempt.calls = 0;
  return attempt;
}

describe("withRetries", () => {
  it("retries UNAVAILABLE failures, up to three attempts", async () => {
    const twice = flaky(unavailable(), unavailable());
    assert.equal(await withRetries(twice, budget(5_000), undefined, () => 0), "ok");
    assert.equal(twice.calls, 3);
    const always = flaky(unavailable(), unavailable(), unavailable(), unavailable());
    assert.equal((await serviceFailure(withRetries(always, budget(5_000), undefined, () => 0))).reason, "UPSTREAM_UNAVAILABLE");
    assert.equal(always.calls, 3);
  });

  it("does not wait for a retry the caller's remaining time cannot cover: it reports the upstream's failure at once", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout", "Date"] });
    const attempt = flaky(unavailable(), unavailable());
    const policy = { maxAttempts: 3, baseBackoffMs: 100, maxBackoffMs: 100 };
    let settled = false;
    const failing = serviceFailure(
      withRetries(attempt, { signal: new AbortController().signal, deadline: Date.now() + 40 }, policy, () => 1),
    ).finally(() => (settled = true));
    // Time stands still: only an answer that waits for no timer can arrive.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, true, "no waiting");
    const err = await failing;
    assert.deepEqual([err.code, err.reason, attempt.calls], ["Unavailable", "UPSTREAM_UNAVAILABLE", 1]);
  });

  it("never retries a failure a retry would only repeat", async () => {
    for (const err of [
      new ServiceError({ reason: "UPSTREAM_BAD_RESPONSE", message: "garbage" }),
      new ServiceError({ reason: "UPSTREAM_PERMISSION_DENIED", message: "denied" }),
      new ServiceError({ reason: "NOT_GRANTED", message: "no" }),
    ]) {
      const attempt = flaky(err);
      assert.equal(await serviceFailure(withRetries(attempt, budget(5_000))), err);
      assert.equal(attempt.calls, 1);
    }
  });

  it("reports the last real cause, not DEADLINE_EXCEEDED, when the deadline passes while it waits or retries", async () => {
    const controller = new AbortController();
    const attempt = flaky(unavailable(), unavailable());
    const pending = withRetries(
      attempt,
      { signal: controller.signal, deadline: Date.now() + 10_000 },
      { maxAttempts: 3, baseBackoffMs: 200, maxBackoffMs: 200 },
    );
    setTimeout(() => controller.abort(new DOMException("deadline", "TimeoutError")), 50);
    assert.equal((await serviceFailure(pending)).reason, "UPSTREAM_UNAVAILABLE");
    assert.equal(attempt.calls, 1);
  });
});
