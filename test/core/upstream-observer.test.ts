import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { observeUpstream } from "../../src/core/upstream-observer.js";
import { type ErrorReason, errorReasons, failedBeforeAnyCloud } from "../../src/errors/error-reasons.js";
import { ServiceError } from "../../src/errors/service-error.js";

/** Runs `call` through observeUpstream and returns what the observer was told, and whether the caller got the error. */
async function observed(call: () => Promise<string>): Promise<{ outcomes: string[]; rejected: unknown }> {
  const outcomes: string[] = [];
  let rejected: unknown;
  await observeUpstream((_provider, _operation, outcome) => outcomes.push(outcome), "aws", "token", call).catch((err: unknown) => {
    rejected = err;
  });
  return { outcomes, rejected };
}

const failing = (reason: ErrorReason) => () => Promise.reject(new ServiceError({ reason, message: "x" }));

describe("observeUpstream", () => {
  it("reports a success and a cloud's failure with its reason", async () => {
    assert.deepEqual((await observed(() => Promise.resolve("token"))).outcomes, ["ok"]);
    const unavailable = await observed(failing("UPSTREAM_UNAVAILABLE"));
    assert.deepEqual(unavailable.outcomes, ["UPSTREAM_UNAVAILABLE"]);
    assert.ok(unavailable.rejected instanceof ServiceError);
  });

  it("does not report a failure before any cloud was reached, and still rejects with it", async () => {
    for (const reason of ["SECRET_UNRESOLVABLE", "CREDENTIALS_INVALID", "CREDENTIALS_NOT_CONFIGURED", "PROVIDER_CANNOT_MINT"] as const) {
      const { outcomes, rejected } = await observed(failing(reason));
      assert.deepEqual(outcomes, [], reason);
      assert.equal((rejected as ServiceError).reason, reason);
    }
  });

  it("reports the call's own end, which may come while a cloud is waited for, and what is not a ServiceError", async () => {
    assert.deepEqual((await observed(failing("DEADLINE_EXCEEDED"))).outcomes, ["DEADLINE_EXCEEDED"]);
    assert.deepEqual((await observed(failing("CANCELED"))).outcomes, ["CANCELED"]);
    assert.deepEqual((await observed(() => Promise.reject(new TypeError("bug")))).outcomes, ["UNKNOWN"]);
  });
});

describe("failedBeforeAnyCloud", () => {
  it("is false for every answer of a cloud and the call's own end, true for the request, the caller and the service's config", () => {
    const reasons = Object.keys(errorReasons) as ErrorReason[];
    const cloud = reasons.filter((reason) => !failedBeforeAnyCloud(reason));
    assert.deepEqual(
      cloud.sort(),
      [
        "CANCELED",
        "CLUSTER_NOT_READY",
        "DEADLINE_EXCEEDED",
        "INTERNAL",
        ...reasons.filter((reason) => reason.startsWith("UPSTREAM_")),
      ].sort(),
    );
    for (const reason of ["INVALID_CLUSTER_ID", "NOT_GRANTED", "CLUSTER_NOT_FOUND", "SECRET_UNRESOLVABLE", "AUDIT_FAILED"] as const)
      assert.equal(failedBeforeAnyCloud(reason), true, reason);
  });
});
