import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { status as grpcStatus } from "@grpc/grpc-js";
import { ServiceError, type ErrorCode } from "../../src/errors/service-error.js";
import { errorStatuses, okStatus } from "../../src/errors/status-codes.js";
import { classifyFailure } from "../../src/pipeline/classify-failure.js";
import { CallFailure } from "../../src/core/call-context.js";

/**
 * Each portable code's status as the specifications spell it: the number and
 * canonical name of grpc/doc/statuscodes.md, and grpc-go's `codes.Code.String()`,
 * which go-grpc-prometheus writes as `grpc_code`.
 */
const spelled: Record<ErrorCode, [number, string, string]> = {
  Canceled: [1, "CANCELLED", "Canceled"],
  InvalidArgument: [3, "INVALID_ARGUMENT", "InvalidArgument"],
  DeadlineExceeded: [4, "DEADLINE_EXCEEDED", "DeadlineExceeded"],
  NotFound: [5, "NOT_FOUND", "NotFound"],
  PermissionDenied: [7, "PERMISSION_DENIED", "PermissionDenied"],
  ResourceExhausted: [8, "RESOURCE_EXHAUSTED", "ResourceExhausted"],
  FailedPrecondition: [9, "FAILED_PRECONDITION", "FailedPrecondition"],
  Unimplemented: [12, "UNIMPLEMENTED", "Unimplemented"],
  Internal: [13, "INTERNAL", "Internal"],
  Unavailable: [14, "UNAVAILABLE", "Unavailable"],
  Unauthenticated: [16, "UNAUTHENTICATED", "Unauthenticated"],
};

describe("status codes", () => {
  it("names every portable code as gRPC and grpc-go do, and maps it to gRPC's number", () => {
    for (const [code, [number, grpc, go]] of Object.entries(spelled) as [ErrorCode, [number, string, string]][]) {
      assert.deepEqual(errorStatuses[code], { grpc, go, connect: number }, code);
      assert.equal(grpcStatus[grpc as keyof typeof grpcStatus], number, `grpc-js agrees on ${grpc}`);
    }
    assert.deepEqual(okStatus, { grpc: "OK", go: "OK" });
  });

  it("classifies a service error by its code, a failure with facts by its cause, and anything else as INTERNAL", () => {
    const canceled = new ServiceError({ reason: "CANCELED", message: "the caller went away" });
    assert.equal(classifyFailure(canceled).status.grpc, "CANCELLED");
    assert.equal(classifyFailure(canceled).status.go, "Canceled");
    const withFacts = classifyFailure(new CallFailure(canceled, { clusterId: "c1" }));
    assert.equal(withFacts.error, canceled);
    assert.deepEqual(withFacts.facts, { clusterId: "c1" });
    assert.equal(classifyFailure(withFacts), withFacts, "a classified failure passes through as it is");
    const bug = classifyFailure(new TypeError("x is undefined"));
    assert.deepEqual(
      [bug.error.reason, bug.error.message, bug.status.grpc, bug.unexpected],
      ["INTERNAL", "internal error", "INTERNAL", true],
    );
    assert.ok(bug.thrown instanceof TypeError, "what was thrown is kept for the log");
  });
});
