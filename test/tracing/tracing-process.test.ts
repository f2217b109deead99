import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ClusterTokenService } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { startFakeEks } from "../fakes/fake-eks.js";
import type { FakeServer } from "../fakes/fake-http-server.js";
import { type FakeSts, startFakeSts } from "../fakes/fake-sts.js";
import { expectError } from "../support/error-info.js";
import { repoRoot } from "../support/paths.js";
import { createSecureFixture, type SecureFixture, secureClients, secureRawConfig } from "../support/secure-fixture.js";
import { startServeProcess } from "../support/serve-process.js";
import { rawTestConfig, testAwsKeys, testCaData, testAwsEnv } from "../support/test-config.js";
import { type OtlpReceiver, startOtlpReceiver } from "./otlp-receiver.js";
import { spanKind } from "./otlp-wire.js";
import { caller, childrenOf, collectorKey, rpcSpanName, stop, traceparent } from "./traced-service.js";

const roleArn = "arn:aws:iam::123456789012:role/issuer";

describe("tracing on the real process: OTLP/HTTP protobuf (the default), the caller's parent, upstream children, no secret in any span", () => {
  let f: SecureFixture;
  let receiver: OtlpReceiver;
  let sts: FakeSts;
  let eks: FakeServer;
  before(async () => {
    [f, receiver] = await Promise.all([createSecureFixture(), startOtlpReceiver()]);
    sts = await startFakeSts({
      keys: { [testAwsKeys.accessKeyId]: { secretAccessKey: testAwsKeys.secretAccessKey } },
      roles: { [roleArn]: { trustedKeys: [testAwsKeys.accessKeyId], externalId: "ext-secretish-1" } },
    });
    eks = await startFakeEks({
      region: "us-west-2",
      keys: new Map([[testAwsKeys.accessKeyId, { secretAccessKey: testAwsKeys.secretAccessKey }]]),
      clusters: { found: { endpoint: "https://found.example.com", caData: testCaData } },
    });
  });
  after(() => Promise.all([receiver.close(), sts.close(), eks.close()]));

  it("exports each call's span as the child of the caller's, with its upstream calls and audit commit as its children", async () => {
    const raw = secureRawConfig(f, { mtls: false }) as {
      credentials: Record<string, Record<string, unknown>>;
      clusters: unknown[];
      audit: { file: string };
      security: { grants: unknown[] };
    };
    raw.credentials.assumed = { ...raw.credentials["aws-test"], roleArn, externalId: "ext-secretish-1", stsEndpoint: sts.url };
    raw.clusters.push(
      {
        id: "demo-assumed",
        provider: "aws",
        region: "us-east-2",
        name: "a",
        credentials: "assumed",
        endpoint: "https://a.example.com",
        certificateAuthorityData: testCaData,
      },
      { id: "demo-found", provider: "aws", region: "us-west-2", name: "found", credentials: "aws-test", apiEndpoint: eks.url },
    );
    const svc = await startServeProcess(raw, {
      env: {
        ...testAwsEnv,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.http.url,
        OTEL_EXPORTER_OTLP_HEADERS: `x-collector-key=${collectorKey}`,
        OTEL_BSP_SCHEDULE_DELAY: "20",
        OTEL_SERVICE_NAME: "cts-under-test",
        OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=test,team=platform",
      },
    });
    const leaks = new Set<string>([
      testAwsKeys.secretAccessKey,
      testAwsKeys.accessKeyId,
      f.keys.deployer.key,
      f.keys.reader.key,
      collectorKey,
    ]);
    try {
      const deployer = secureClients({ httpAddress: svc.http, grpcAddress: svc.grpc }, { ca: f.pki.ca.cert, apiKey: f.keys.deployer.key });
      const reader = secureClients({ httpAddress: svc.http, grpcAddress: svc.grpc }, { ca: f.pki.ca.cert, apiKey: f.keys.reader.key });
      const headers = (n: number) => ({ traceparent: traceparent(caller(n)), "x-request-id": `call-${n}` });
      leaks.add((await deployer.grpc.generateToken({ clusterId: "demo-eks" }, { headers: headers(1) })).status!.token);
      const kubeconfig = (await reader.connect.getKubeconfig({ clusterId: "demo-found" }, { headers: headers(2) })).kubeconfig;
      leaks.add(kubeconfig.match(/token: (\S+)/)![1]!);
      await reader.grpc
        .getKubeconfig({ clusterId: "demo-assumed" }, { headers: headers(3) })
        .then((r) => leaks.add(r.kubeconfig.match(/token: (\S+)/)![1]!));
      await expectError(deployer.grpc.generateToken({ clusterId: "prod-eks" }, { headers: headers(4) }), Code.PermissionDenied);
      const stranger = secureClients(
        { httpAddress: svc.http, grpcAddress: svc.grpc },
        { ca: f.pki.ca.cert, apiKey: `${f.keys.deployer.key}x` },
      );
      await expectError(stranger.connect.listClusters({}, { headers: headers(5) }), Code.Unauthenticated);
      for (const key of sts.keys.values()) {
        leaks.add(key.secretAccessKey);
        if (key.sessionToken) leaks.add(key.sessionToken);
      }

      const spans = await receiver.waitForSpans((all) =>
        [1, 2, 3, 4, 5].every((n) => all.some((s) => s.parentSpanId === caller(n).spanId)),
      );
      const call = (n: number) => spans.find((s) => s.parentSpanId === caller(n).spanId)!;
      for (const n of [1, 2, 3, 4, 5]) {
        assert.equal(call(n).traceId, caller(n).traceId, "the caller's trace");
        assert.equal(call(n).kind, spanKind.server);
        assert.equal(call(n).attributes["cluster_token.request_id"], `call-${n}`);
        // The span may reach the receiver before the access line reaches the test through the pipe.
        const line = await svc.waitForLine((l) => l.msg === "rpc" && l.requestId === `call-${n}`, 5_000);
        assert.equal(line.spanId, call(n).spanId, "the access line names the span");
      }
      assert.equal(call(1).name, rpcSpanName("GenerateToken"));
      assert.equal(call(1).attributes["cluster_token.principal"], "key:deployer");
      assert.deepEqual(
        childrenOf(spans, call(1)).map((c) => c.name),
        ["aws token", "audit commit"],
      );
      const discovery = childrenOf(spans, call(2)).find((c) => c.name === "aws discovery");
      assert.equal(discovery?.kind, spanKind.client, "the discovery at the fake EKS");
      assert.equal(discovery?.attributes["cluster_token.upstream.outcome"], "ok");
      assert.equal(eks.requests.length, 1);
      const assumed = childrenOf(spans, call(3)).find((c) => c.name === "aws token");
      assert.ok(assumed && sts.assumeRoleCalls.length === 1, "the mint that assumed the role at the fake STS");
      assert.equal(call(4).attributes["error.type"], "NOT_GRANTED");
      assert.equal(call(4).attributes["rpc.grpc.status_code"], Code.PermissionDenied);
      assert.equal(call(5).attributes["rpc.connect_rpc.error_code"], "unauthenticated");
      assert.equal(call(5).attributes["cluster_token.principal"], undefined, "nobody was authenticated");

      const audit = (await readFile(raw.audit.file, "utf8"))
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      assert.equal(audit.find((l) => l.requestId === "call-1")?.traceId, caller(1).traceId);
      assert.equal(audit.find((l) => l.requestId === "call-4")?.spanId, call(4).spanId, "a denial's audit line names its span too");

      const resource = call(1).resource;
      assert.equal(resource["service.name"], "cts-under-test");
      assert.equal(resource.team, "platform");
      assert.equal(resource["service.version"], JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")).version);
      assert.ok(receiver.exports.every((e) => e.protocol === "http/protobuf" && e.headers["x-collector-key"] === collectorKey));

      assert.ok(leaks.size >= 9, "keys, the collector's key, three tokens, and the temporary keys STS issued");
      const exported = [
        ...receiver.exports.map((e) => e.raw.toString("latin1")),
        JSON.stringify(spans, (_k, v) => (typeof v === "bigint" ? String(v) : v)),
      ];
      const output = svc.stdout() + svc.stderr();
      for (const secret of leaks) {
        for (const text of exported) assert.ok(!text.includes(secret), `a span carries ${secret.slice(0, 8)}…`);
        assert.ok(!output.includes(secret), `the process wrote ${secret.slice(0, 8)}…`);
      }
    } finally {
      await stop(svc);
    }
    assert.deepEqual(receiver.problems, []);
  });
});

describe("tracing on the real process: OTLP/HTTP JSON and OTLP/gRPC", () => {
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(async () => {
    await receiver.close();
    assert.deepEqual(receiver.problems, []);
  });

  for (const protocol of ["http/json", "grpc"] as const) {
    it(`exports over ${protocol}`, async () => {
      const endpoint = protocol === "grpc" ? receiver.grpcUrl : receiver.http.url;
      const svc = await startServeProcess(rawTestConfig(), {
        env: {
          ...testAwsEnv,
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: protocol === "grpc" ? endpoint : `${endpoint}/v1/traces`,
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
          OTEL_EXPORTER_OTLP_HEADERS: `x-collector-key=${collectorKey}`,
          OTEL_BSP_SCHEDULE_DELAY: "20",
        },
      });
      const span = caller(protocol === "grpc" ? 6 : 7);
      try {
        const client = createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${svc.grpc}` }));
        await client.generateToken({ clusterId: "demo-eks" }, { headers: { traceparent: traceparent(span) } });
        const spans = await receiver.waitForSpans((all) => all.some((s) => s.parentSpanId === span.spanId));
        const call = spans.find((s) => s.parentSpanId === span.spanId)!;
        assert.equal(call.traceId, span.traceId);
        assert.deepEqual(
          childrenOf(spans, call).map((c) => c.name),
          ["aws token", "audit commit"],
        );
        const exports = receiver.exports.filter((e) => e.spans.includes(call));
        assert.deepEqual(
          exports.map((e) => [e.protocol, e.headers["x-collector-key"]]),
          [[protocol, collectorKey]],
        );
      } finally {
        await stop(svc);
      }
    });
  }
});
