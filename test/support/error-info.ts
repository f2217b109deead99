import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema, type ErrorInfo } from "../../gen/google/rpc/error_details_pb.js";

/** Awaits a rejected call and returns its ConnectError, asserting exactly one ErrorInfo and the code. */
export async function expectError(call: Promise<unknown>, code: Code): Promise<{ error: ConnectError; info: ErrorInfo }> {
  const error = await call.then(
    () => assert.fail("expected the call to fail"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ConnectError, `a ConnectError, not ${String(error)}`);
  assert.equal(Code[error.code], Code[code], error.message);
  const infos = error.findDetails(ErrorInfoSchema);
  assert.equal(infos.length, 1, "exactly one google.rpc.ErrorInfo");
  assert.equal(infos[0]!.domain, "clustertoken.v1");
  assert.match(infos[0]!.reason, /^[A-Z0-9_]+$/);
  return { error, info: infos[0]! };
}

/**
 * Awaits a rejected call and returns its ConnectError with the code asserted. For a
 * deadline the client library enforces itself, which ends the call without the
 * server's ErrorInfo.
 */
export async function expectCode(call: Promise<unknown>, code: Code): Promise<ConnectError> {
  const error = await call.then(
    () => assert.fail("expected the call to fail"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ConnectError, `a ConnectError, not ${String(error)}`);
  assert.equal(Code[error.code], Code[code], error.message);
  return error;
}
