import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { startFakeEks } from "../fakes/fake-eks.js";
import type { FakeServer } from "../fakes/fake-http-server.js";
import { expectError } from "../support/error-info.js";
import { startTestService } from "../support/running-service.js";
import { rawTestConfig, testAwsKeys, testCaData, testConfig } from "../support/test-config.js";
import { type OtlpReceiver, startOtlpReceiver } from "./otlp-receiver.js";
import { type ReceivedSpan, spanKind, statusCode } from "./otlp-wire.js";
import { callerSpan, childrenOf, rpcSpanName, type TracedService, startTracedService, traceparent } from "./traced-service.js";

/** The test config plus two clusters discovered through `eks` on every call (TTL 0, stale for an hour). */
function discoveringConfig(eks: FakeServer): Record<string, unknown> {
  const raw = rawTestConfig() as { clusters: unknown[] };
  const discovered = (name: string) => ({
    id: name,
    provider: "aws",
    region: "us-west-2",
    name,
    credentials: "aws-test",
    apiEndpoint: eks.url,
  });
  raw.clusters.push(discovered("found"), discovered("other"));
  return { ...raw, discovery: { cacheTtlSeconds: 0, maxStaleSeconds: 3600 } };
}

const accessLine = (t: TracedService, requestId: string) =>
  t.svc.logs.records().find((l) => l.msg === "rpc" && l.requestId === requestId) ?? assert.fail(`no access line for ${requestId}`);

describe("tracing: a span per call, continuing the caller's trace, with its upstream calls and audit commit", () => {
  let receiver: OtlpReceiver;
  let eks: FakeServer;
  let t: TracedService;
  before(async () => {
    receiver = await startOtlpReceiver();
    eks = await startFakeEks({
      region: "us-west-2",
      keys: new Map([[testAwsKeys.accessKeyId, { secretAccessKey: testAwsKeys.secretAccessKey }]]),
      clusters: {
        found: { endpoint: "https://found.example.com", caData: testCaData },
        other: { endpoint: "https://other.example.com", caData: testCaData },
      },
    });
    t = await startTracedService(discoveringConfig(eks), receiver);
  });
  after(async () => {
    await t.close();
    await eks.close();
    await receiver.close();
    assert.deepEqual(receiver.problems, [], "every export decoded");
  });

  it("continues the caller's traceparent and tracestate over gRPC, Connect and gRPC-Web; the ids are in the access and audit lines", async () => {
    const clients = { grpc: t.svc.grpc, connect: t.svc.connect, grpcWeb: t.svc.grpcWeb };
    const expected = { grpc: ["grpc", "grpc"], connect: ["connect_rpc", "connect"], grpcWeb: ["grpc", "connect"] };
    for (const [name, client] of Object.entries(clients)) {
      const requestId = `trace-${name}`;
      await client.generateToken(
        { clusterId: "demo-eks" },
        { headers: { traceparent: traceparent(), tracestate: "vendor=opaque-1,other=x", "x-request-id": requestId } },
      );
      const spans = await receiver.waitForSpans((all) => all.some((s) => s.attributes["cluster_token.request_id"] === requestId));
      const span = spans.find((s) => s.attributes["cluster_token.request_id"] === requestId)!;
      assert.equal(span.name, rpcSpanName("GenerateToken"));
      assert.equal(span.kind, spanKind.server);
      assert.equal(span.traceId, callerSpan.traceId, "the caller's trace");
      assert.equal(span.parentSpanId, callerSpan.spanId, "the caller's span is the parent");
      assert.equal(span.traceState, "vendor=opaque-1,other=x");
      assert.equal(span.flags & 1, 1, "sampled, as the caller asked");
      const [system, transport] = expected[name as keyof typeof expected];
      assert.equal(span.attributes["rpc.system"], system, name);
      assert.equal(span.attributes["cluster_token.transport"], transport);
      assert.equal(span.attributes["rpc.service"], "clustertoken.v1.ClusterTokenService");
      assert.equal(span.attributes["rpc.method"], "GenerateToken");
      assert.equal(span.attributes["cluster_token.principal"], "anonymous");
      assert.equal(span.attributes["cluster_token.cluster_id"], "demo-eks");
      assert.equal(span.attributes["cluster_token.provider"], "aws");
      if (system === "grpc") assert.equal(span.attributes["rpc.grpc.status_code"], 0);
      assert.equal(span.status.code, statusCode.unset);
      assert.ok(span.startNs > 0n && span.endNs >= span.startNs);
      assert.equal(span.resource["service.name"], "cluster-token-service");
      const line = accessLine(t, requestId);
      assert.deepEqual([line.traceId, line.spanId], [span.traceId, span.spanId], "the access line names the span");
      const audit = (await t.svc.audit()).find((l) => l.requestId === requestId);
      assert.deepEqual([audit?.traceId, audit?.spanId], [span.traceId, span.spanId], "so does the audit line");
      const commit = await receiver.waitForSpans((all) => childrenOf(all, span).some((c) => c.name === "audit commit"));
      const child = childrenOf(commit, span).find((c) => c.name === "audit commit")!;
      assert.equal(child.kind, spanKind.internal);
      assert.ok(child.startNs >= span.startNs && child.endNs <= span.endNs, "within the call's span");
    }
    const first = receiver.spans().find((s) => s.attributes["cluster_token.request_id"] === "trace-grpc")!;
    assert.equal(first.attributes["cluster_token.token_cache.hit"], false);
    const mint = childrenOf(receiver.spans(), first).find((c) => c.name === "aws token");
    assert.ok(mint, "the first call minted: an upstream child");
    assert.deepEqual(mint.attributes, {
      "cluster_token.provider": "aws",
      "cluster_token.upstream.operation": "token",
      "cluster_token.upstream.outcome": "ok",
    });
    const cached = receiver.spans().find((s) => s.attributes["cluster_token.request_id"] === "trace-connect")!;
    assert.equal(cached.attributes["cluster_token.token_cache.hit"], true);
    assert.deepEqual(
      childrenOf(receiver.spans(), cached).map((c) => c.name),
      ["audit commit"],
      "a cached token calls no cloud",
    );
  });

  it("starts a new trace without a trace context, or with one the W3C rules make invalid", async () => {
    const invalid = [
      undefined,
      `00-${"0".repeat(32)}-${callerSpan.spanId}-01`,
      `00-${callerSpan.traceId}-${"0".repeat(16)}-01`,
      `ff-${callerSpan.traceId}-${callerSpan.spanId}-01`,
      "hello",
      `${traceparent()}, ${traceparent()}`,
    ];
    for (const [i, value] of invalid.entries()) {
      const requestId = `new-trace-${i}`;
      await t.svc.grpc.listClusters({}, { headers: { "x-request-id": requestId, ...(value === undefined ? {} : { traceparent: value }) } });
      const spans = await receiver.waitForSpans((all) => all.some((s) => s.attributes["cluster_token.request_id"] === requestId));
      const span = spans.find((s) => s.attributes["cluster_token.request_id"] === requestId)!;
      assert.equal(span.parentSpanId, "", `${value}: a root span`);
      assert.notEqual(span.traceId, callerSpan.traceId);
      assert.equal(accessLine(t, requestId).traceId, span.traceId);
    }
  });

  it("records each discovery as a client child with provider, operation and outcome; a failed one is an error, the call may still succeed", async () => {
    const call = async (requestId: string, clusterId: string) => {
      await t.svc.grpc.getKubeconfig({ clusterId }, { headers: { "x-request-id": requestId, traceparent: traceparent() } });
      const spans = await receiver.waitForSpans((all) => {
        const span = all.find((s) => s.attributes["cluster_token.request_id"] === requestId);
        return span !== undefined && childrenOf(all, span).some((c) => c.name === "aws discovery");
      });
      const span = spans.find((s) => s.attributes["cluster_token.request_id"] === requestId)!;
      return { span, discovery: childrenOf(spans, span).find((c) => c.name === "aws discovery")! };
    };
    const ok = await call("discovered", "found");
    assert.equal(ok.discovery.kind, spanKind.client);
    assert.equal(ok.discovery.attributes["cluster_token.upstream.outcome"], "ok");
    assert.equal(ok.discovery.status.code, statusCode.unset);
    eks.fault = { status: 503 };
    try {
      const stale = await call("stale", "found");
      assert.equal(stale.discovery.attributes["cluster_token.upstream.outcome"], "UPSTREAM_UNAVAILABLE");
      assert.equal(stale.discovery.attributes["error.type"], "UPSTREAM_UNAVAILABLE");
      assert.deepEqual(stale.discovery.status, { code: statusCode.error, message: "UPSTREAM_UNAVAILABLE" });
      assert.equal(stale.span.status.code, statusCode.unset, "the call succeeded on the last known endpoint");
      assert.equal(stale.span.attributes["rpc.grpc.status_code"], 0);
    } finally {
      eks.fault = undefined;
    }
  });

  it("marks the call's span an error only for a server fault, and names the reason either way", async () => {
    await expectError(t.svc.grpc.getKubeconfig({ clusterId: "nope" }, { headers: { "x-request-id": "not-found" } }), Code.NotFound);
    await expectError(
      t.svc.connect.getKubeconfig({ clusterId: "no-endpoint" }, { headers: { "x-request-id": "unavailable" } }),
      Code.Unavailable,
    );
    const spans = await receiver.waitForSpans((all) =>
      ["not-found", "unavailable"].every((id) => all.some((s) => s.attributes["cluster_token.request_id"] === id)),
    );
    const byId = (id: string) => spans.find((s) => s.attributes["cluster_token.request_id"] === id)!;
    assert.equal(byId("not-found").status.code, statusCode.unset, "the caller's mistake is not the server's error");
    assert.equal(byId("not-found").attributes["rpc.grpc.status_code"], Code.NotFound);
    assert.equal(byId("not-found").attributes["error.type"], "CLUSTER_NOT_FOUND");
    assert.deepEqual(byId("unavailable").status, { code: statusCode.error, message: "UPSTREAM_UNREACHABLE" });
    assert.equal(byId("unavailable").attributes["rpc.connect_rpc.error_code"], "unavailable");
    assert.equal(byId("unavailable").attributes["rpc.grpc.status_code"], undefined, "a Connect call has Connect's code");
    // GetKubeconfig mints while it discovers; each discovery attempt (retried within the deadline) is a child of its own.
    const discoveries = childrenOf(spans, byId("unavailable")).filter((c) => c.name === "aws discovery");
    assert.ok(discoveries.length > 1, "retries are children too");
    for (const discovery of discoveries) assert.equal(discovery.attributes["error.type"], "UPSTREAM_UNREACHABLE");
  });

  it("gives each of two calls in flight at once its own children", async () => {
    const a = { traceId: "11111111111111111111111111111111", spanId: "1111111111111111" };
    const b = { traceId: "22222222222222222222222222222222", spanId: "2222222222222222" };
    const before = eks.requests.length;
    eks.fault = { hold: true };
    const calls = [
      t.svc.grpc.getKubeconfig({ clusterId: "found" }, { headers: { traceparent: traceparent(a) } }),
      t.svc.connect.getKubeconfig({ clusterId: "other" }, { headers: { traceparent: traceparent(b) } }),
    ];
    await eks.received(before + 2);
    eks.fault = undefined;
    await eks.release();
    await Promise.all(calls);
    const spans = await receiver.waitForSpans((all) => all.filter((s) => [a.traceId, b.traceId].includes(s.traceId)).length >= 4);
    for (const caller of [a, b]) {
      const span = spans.find((s) => s.traceId === caller.traceId && s.parentSpanId === caller.spanId)!;
      const discoveries = childrenOf(spans, span).filter((c) => c.name === "aws discovery");
      assert.equal(discoveries.length, 1, `the call of trace ${caller.traceId[0]} has its own discovery`);
    }
  });

  it("follows the caller's sampled flag: an unsampled call exports nothing, and its lines still carry its trace id", async () => {
    const quiet = { traceId: "33333333333333333333333333333333", spanId: "3333333333333333" };
    await t.svc.grpc.listClusters({}, { headers: { traceparent: traceparent(quiet, false), "x-request-id": "unsampled" } });
    await t.svc.grpc.listClusters({}, { headers: { "x-request-id": "sampled-after" } });
    // Spans are exported in the order they end: once the later call's span is in, the earlier one would be too.
    await receiver.waitForSpans((all) => all.some((s) => s.attributes["cluster_token.request_id"] === "sampled-after"));
    assert.ok(!receiver.spans().some((s) => s.traceId === quiet.traceId), "nothing of the unsampled trace was exported");
    assert.equal(accessLine(t, "unsampled").traceId, quiet.traceId);
  });
});

describe("tracing: the audit commit", () => {
  it("is an error child when the audit log cannot be written, and the call's span says AUDIT_FAILED", async () => {
    const receiver = await startOtlpReceiver();
    const t = await startTracedService({ ...rawTestConfig(), audit: { file: "/dev/full" } }, receiver);
    try {
      await expectError(t.svc.grpc.generateToken({ clusterId: "demo-eks" }, { headers: { traceparent: traceparent() } }), Code.Unavailable);
      const spans = await receiver.waitForSpans((all) => all.some((s) => s.name === "audit commit"));
      const call = spans.find((s) => s.name === rpcSpanName("GenerateToken")) as ReceivedSpan;
      assert.deepEqual(call.status, { code: statusCode.error, message: "AUDIT_FAILED" });
      const commit = childrenOf(spans, call).find((c) => c.name === "audit commit")!;
      assert.deepEqual(commit.status, { code: statusCode.error, message: "AUDIT_FAILED" });
      assert.equal(commit.attributes["error.type"], "AUDIT_FAILED");
    } finally {
      await t.close();
      await receiver.close();
    }
  });
});

describe("tracing off", () => {
  it("writes no trace ids, whatever the caller sends", async () => {
    const svc = await startTestService(testConfig());
    try {
      await svc.grpc.generateToken({ clusterId: "demo-eks" }, { headers: { traceparent: traceparent(), "x-request-id": "untraced" } });
      const line = svc.logs.records().find((l) => l.requestId === "untraced")!;
      assert.ok(line && !("traceId" in line) && !("spanId" in line), JSON.stringify(line));
      const audit = (await svc.audit()).find((l) => l.requestId === "untraced")!;
      assert.ok(audit && !("traceId" in audit) && !("spanId" in audit), JSON.stringify(audit));
    } finally {
      await svc.close();
    }
  });
});
