import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, type ConnectError } from "@connectrpc/connect";
import { ClusterTokenService, GenerateTokenRequestSchema } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AuditLog } from "../../src/audit/audit-log.js";
import { Authenticator } from "../../src/auth/authenticator.js";
import { RateLimiter } from "../../src/auth/rate-limiter.js";
import { raceAbort } from "../../src/common/deadline.js";
import type { CallContext, TransportCall } from "../../src/core/call-context.js";
import type { ServiceHandlers } from "../../src/core/service-handlers.js";
import { abandonedError } from "../../src/errors/upstream-error.js";
import { createLogger } from "../../src/logging/logger.js";
import { providers } from "../../src/providers.js";
import { accessLog } from "../../src/pipeline/access-log.js";
import { audit } from "../../src/pipeline/audit.js";
import { authenticate } from "../../src/pipeline/authenticate.js";
import { createCallRunner } from "../../src/pipeline/call-runner.js";
import { ClassifiedFailure } from "../../src/pipeline/classify-failure.js";
import { UndecodableRequest } from "../../src/pipeline/invocation.js";
import { defineLink, type Link } from "../../src/pipeline/link.js";
import { rateLimit } from "../../src/pipeline/rate-limit.js";
import { rejectUndecodable } from "../../src/pipeline/reject-undecodable.js";
import { toConnectError } from "../../src/transports/error-status.js";
import { LogCapture } from "../support/log-capture.js";
import { testAuditFile } from "../support/test-config.js";

const call: TransportCall = {
  transport: "connect",
  requestId: "r-1",
  signal: new AbortController().signal,
  deadline: undefined,
  headers: { get: () => undefined },
  peerCertificate: undefined,
};
const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const request = create(GenerateTokenRequestSchema, { clusterId: "a" });

/** The same handler for every RPC. */
function everyRpc(handler: (request: unknown, context: CallContext) => Promise<never>) {
  return { generateToken: handler, getKubeconfig: handler, listClusters: handler } as unknown as ServiceHandlers<
    typeof ClusterTokenService
  >;
}

/** The pipeline the service composes, logging to `logs`. */
function links(logs: LogCapture): Link[] {
  return [
    accessLog(createLogger({ destination: logs, providers })),
    audit(AuditLog.open(testAuditFile(), { commitTimeoutMs: 1_000 })),
    authenticate(Authenticator.none()),
    rejectUndecodable,
  ];
}

/** A runner whose every handler waits on the cloud forever, giving up only when the call's signal aborts. */
function runnerHanging(maxCallMs: number) {
  const hang = (_request: unknown, context: CallContext) =>
    raceAbort(new Promise<never>(() => {}), context.signal, () => abandonedError({ provider: "test", operation: "hang" }, context.signal));
  const pipeline = [accessLog(createLogger({ destination: new LogCapture(), providers })), authenticate(Authenticator.none())];
  return createCallRunner(ClusterTokenService, everyRpc(hang), { links: pipeline, maxCallMs });
}

function runnerThrowing(err: unknown) {
  const logs = new LogCapture();
  const fail = async (): Promise<never> => {
    throw err;
  };
  return { logs, invoke: createCallRunner(ClusterTokenService, everyRpc(fail), { links: links(logs), maxCallMs: 30_000 }) };
}

/** The wire error of a call that must fail. */
async function wireError(promise: Promise<unknown>): Promise<ConnectError> {
  const failure = await promise.then(
    () => assert.fail("expected an error"),
    (e: unknown) => e,
  );
  assert.ok(failure instanceof ClassifiedFailure, "the pipeline rejects with a classified failure");
  return toConnectError(failure);
}

describe("call runner", () => {
  it("ends every call by the service's ceiling, and by the caller's deadline when that is sooner", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: Date.UTC(2026, 0, 15) });
    const invoke = runnerHanging(200);
    for (const [callerDeadlineMs, endsAfterMs] of [
      [undefined, 200],
      [60, 60],
      [60_000, 200],
    ] as const) {
      const transportCall = callerDeadlineMs === undefined ? call : { ...call, deadline: Date.now() + callerDeadlineMs };
      let settled = false;
      const failed = wireError(invoke(ClusterTokenService.method.generateToken, request, transportCall)).finally(() => (settled = true));
      t.mock.timers.tick(endsAfterMs - 1);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(settled, false, `still waiting 1 ms before ${endsAfterMs} ms`);
      t.mock.timers.tick(1);
      const err = await failed;
      assert.equal(err.code, Code.DeadlineExceeded, `ended at ${endsAfterMs} ms`);
    }
  });

  it("turns an unexpected error into INTERNAL without its text, and logs it scrubbed at error level", async () => {
    const { logs, invoke } = runnerThrowing(new TypeError(`boom with ${secret}`));
    const err = await wireError(invoke(ClusterTokenService.method.generateToken, request, call));
    assert.equal(err.code, Code.Internal);
    assert.equal(err.rawMessage, "internal error");
    assert.deepEqual(
      err.findDetails(ErrorInfoSchema).map((i) => i.reason),
      ["INTERNAL"],
    );
    const [line] = logs.records();
    assert.equal(line?.level, "error");
    assert.equal(line?.code, "INTERNAL");
    assert.deepEqual(line?.error, { type: "TypeError", message: "boom with [REDACTED]" });
    assert.ok(!logs.text().includes(secret));
  });

  it("answers an undecodable request with INVALID_ARGUMENT before the handler runs", async () => {
    const { logs, invoke } = runnerThrowing(new Error("the handler must not run"));
    const err = await wireError(invoke(ClusterTokenService.method.generateToken, new UndecodableRequest(new Error("premature EOF")), call));
    assert.equal(err.code, Code.InvalidArgument);
    assert.deepEqual(
      err.findDetails(ErrorInfoSchema).map((i) => i.reason),
      ["MALFORMED_REQUEST"],
    );
    assert.equal(logs.records()[0]?.level, "info", "a client's mistake is not a server error");
  });
});

describe("the link contract", () => {
  const ok = everyRpc(async () => ({ response: {}, facts: {} }) as never);

  it("turns a link's synchronous throw into a rejection, which the outer links see", async () => {
    const logs = new LogCapture();
    const throwing = defineLink({
      name: "throwing",
      wrap: () => () => {
        throw new TypeError("thrown, not rejected");
      },
    });
    const invoke = createCallRunner(ClusterTokenService, ok, {
      links: [accessLog(createLogger({ destination: logs, providers })), authenticate(Authenticator.none()), throwing],
      maxCallMs: 1_000,
    });
    let returned: Promise<unknown> | undefined;
    assert.doesNotThrow(() => {
      returned = invoke(ClusterTokenService.method.generateToken, request, call);
    });
    assert.equal((await wireError(returned!)).code, Code.Internal);
    assert.equal(logs.records()[0]?.code, "INTERNAL", "the access log saw the failure");
  });

  it("refuses at composition a link placed before what it requires", () => {
    const limiter = rateLimit(new RateLimiter({ requestsPerSecond: 1, burst: 1 }));
    assert.throws(
      () => createCallRunner(ClusterTokenService, ok, { links: [limiter, authenticate(Authenticator.none())], maxCallMs: 1_000 }),
      /rateLimit requires the principal, which no link before it establishes/,
    );
    assert.doesNotThrow(() =>
      createCallRunner(ClusterTokenService, ok, { links: [authenticate(Authenticator.none()), limiter], maxCallMs: 1_000 }),
    );
  });

  it("refuses at composition a pipeline whose handler would run without an authenticated principal", () => {
    assert.throws(
      () => createCallRunner(ClusterTokenService, ok, { links: [rejectUndecodable], maxCallMs: 1_000 }),
      /the handler requires the principal/,
    );
  });

  it("refuses at composition a service with a method that has no handler", () => {
    const partial = { generateToken: ok.generateToken } as unknown as ServiceHandlers<typeof ClusterTokenService>;
    assert.throws(
      () => createCallRunner(ClusterTokenService, partial, { links: [authenticate(Authenticator.none())], maxCallMs: 1_000 }),
      /no unary handler for GetKubeconfig/,
    );
  });

  it("rate-limits by the principal authentication established", async () => {
    const invoke = createCallRunner(ClusterTokenService, ok, {
      links: [authenticate(Authenticator.none()), rateLimit(new RateLimiter({ requestsPerSecond: 0.001, burst: 1 }))],
      maxCallMs: 1_000,
    });
    await invoke(ClusterTokenService.method.generateToken, request, call);
    const err = await wireError(invoke(ClusterTokenService.method.generateToken, request, call));
    assert.equal(err.code, Code.ResourceExhausted);
    assert.match(err.rawMessage, /^anonymous is over its rate limit/);
  });
});
