import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ClusterTokenService, GenerateTokenRequestSchema } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AuditLog } from "../../src/audit/audit-log.js";
import { Authenticator } from "../../src/auth/authenticator.js";
import type { TransportCall } from "../../src/core/call-context.js";
import type { ServiceHandlers } from "../../src/core/service-handlers.js";
import { createLogger } from "../../src/logging/logger.js";
import { providers } from "../../src/providers.js";
import { UndecodableRequest } from "../../src/pipeline/invocation.js";
import { createUnaryInvoker } from "../../src/transports/unary-invoker.js";
import { LogCapture } from "../support/log-capture.js";
import { testAuditFile } from "../support/test-config.js";
import type { CallContext } from "../../src/core/call-context.js";
import { raceAbort } from "../../src/errors/upstream-error.js";
import { accessLog } from "../../src/pipeline/access-log.js";
import { audit } from "../../src/pipeline/audit.js";
import { authenticate } from "../../src/pipeline/authenticate.js";
import { rejectUndecodable } from "../../src/pipeline/reject-undecodable.js";

const call: TransportCall = {
  transport: "connect",
  requestId: "r-1",
  signal: new AbortController().signal,
  deadline: undefined,
  credentials: {},
};
const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/** The pipeline the service composes, logging to `logs`. */
function links(logs: LogCapture) {
  return [
    accessLog(createLogger({ destination: logs, providers })),
    audit(AuditLog.open(testAuditFile(), { commitTimeoutMs: 1_000 })),
    authenticate(Authenticator.none()),
    rejectUndecodable,
  ];
}

/** An invoker whose every handler waits on the cloud forever, giving up only when the call's signal aborts. */
function invokerHanging(maxCallMs: number) {
  const hang = (_request: unknown, context: CallContext) =>
    raceAbort(new Promise<never>(() => {}), context.signal, { provider: "test", operation: "hang" });
  const handlers = { generateToken: hang, getKubeconfig: hang, listClusters: hang } as unknown as ServiceHandlers<
    typeof ClusterTokenService
  >;
  return createUnaryInvoker(ClusterTokenService, handlers, { links: links(new LogCapture()), maxCallMs });
}

function invokerThrowing(err: unknown) {
  const logs = new LogCapture();
  const fail = async () => {
    throw err;
  };
  const handlers = { generateToken: fail, getKubeconfig: fail, listClusters: fail } as unknown as ServiceHandlers<
    typeof ClusterTokenService
  >;
  return { logs, invoke: createUnaryInvoker(ClusterTokenService, handlers, { links: links(logs), maxCallMs: 30_000 }) };
}

describe("unary invoker", () => {
  it("ends every call by the service's ceiling, and by the caller's deadline when that is sooner", async () => {
    const invoke = invokerHanging(200);
    const request = create(GenerateTokenRequestSchema, { clusterId: "a" });
    for (const [callerDeadlineMs, within] of [
      [undefined, [150, 600]],
      [60, [30, 150]],
      [60_000, [150, 600]],
    ] as const) {
      const started = performance.now();
      const transportCall = callerDeadlineMs === undefined ? call : { ...call, deadline: Date.now() + callerDeadlineMs };
      const err = await invoke(ClusterTokenService.method.generateToken, request, transportCall).then(
        () => assert.fail("expected an error"),
        (e: unknown) => ConnectError.from(e),
      );
      const ms = performance.now() - started;
      assert.equal(err.code, Code.DeadlineExceeded);
      assert.ok(ms >= within[0] && ms <= within[1], `ended after ${Math.round(ms)} ms, expected ${within.join("–")}`);
    }
  });

  it("turns an unexpected error into INTERNAL without its text, and logs it scrubbed at error level", async () => {
    const { logs, invoke } = invokerThrowing(new TypeError(`boom with ${secret}`));
    const err = await invoke(ClusterTokenService.method.generateToken, create(GenerateTokenRequestSchema, { clusterId: "a" }), call).then(
      () => assert.fail("expected an error"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ConnectError);
    assert.equal(err.code, Code.Internal);
    assert.equal(err.rawMessage, "internal error");
    assert.deepEqual(
      err.findDetails(ErrorInfoSchema).map((i) => i.reason),
      ["INTERNAL"],
    );
    const [line] = logs.records();
    assert.equal(line?.level, "error");
    assert.deepEqual(line?.error, { type: "TypeError", message: "boom with [REDACTED]" });
    assert.ok(!logs.text().includes(secret));
  });

  it("answers an undecodable request with INVALID_ARGUMENT before the handler runs", async () => {
    const { logs, invoke } = invokerThrowing(new Error("the handler must not run"));
    const err = await invoke(ClusterTokenService.method.generateToken, new UndecodableRequest(new Error("premature EOF")), call).then(
      () => assert.fail("expected an error"),
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(err.code, Code.InvalidArgument);
    assert.deepEqual(
      err.findDetails(ErrorInfoSchema).map((i) => i.reason),
      ["MALFORMED_REQUEST"],
    );
    assert.equal(logs.records()[0]?.level, "info", "a client's mistake is not a server error");
  });
});
