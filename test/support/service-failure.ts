import assert from "node:assert/strict";
import { ServiceError } from "../../src/errors/service-error.js";

/** Awaits a call that must fail with a ServiceError (a portable code and reason), and returns the error. */
export async function serviceFailure(promise: Promise<unknown>): Promise<ServiceError> {
  const err = await promise.then(
    () => assert.fail("expected the call to fail"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ServiceError, `a ServiceError with a portable code, not ${String(err)}`);
  return err;
}
