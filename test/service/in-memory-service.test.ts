import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { ClusterTokenService } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { AuditLog } from "../../src/audit/audit-log.js";
import type { ServiceConfig } from "../../src/config/config-schema.js";
import type { TokenDriver } from "../../src/drivers/driver.js";
import { createLogger } from "../../src/logging/logger.js";
import { ServiceMetrics } from "../../src/metrics/service-metrics.js";
import { providers } from "../../src/providers.js";
import { createService } from "../../src/service.js";
import { connectImplementation } from "../../src/transports/connect-transport.js";
import { expectCode, expectError } from "../support/error-info.js";
import { InMemoryTokenDriver } from "../support/in-memory-driver.js";
import { LogCapture } from "../support/log-capture.js";
import { rawTestConfig, testConfig } from "../support/test-config.js";

/** What the process's server owns and a service only uses: its audit sink and metrics. */
function serverParts(config: ServiceConfig): { audit: AuditLog; metrics: ServiceMetrics } {
  return {
    audit: AuditLog.open(config.audit.file, { commitTimeoutMs: config.audit.commitTimeoutSeconds * 1000 }),
    metrics: new ServiceMetrics({ defaultMetrics: false }),
  };
}

/**
 * The whole service in memory, as connect-es tests do it: the real composition
 * (policy, pipeline, handlers, audit) behind connect-es's router transport, with
 * an in-memory driver: no ports and no cloud keys.
 */
function inMemoryService() {
  const raw = rawTestConfig() as { credentials: Record<string, Record<string, unknown>> };
  // References nobody resolves: the injected driver never reads them.
  raw.credentials["aws-test"] = { provider: "aws", accessKeyId: { env: "CTS_UNSET_KEY_ID" }, secretAccessKey: { env: "CTS_UNSET_SECRET" } };
  const driver = new InMemoryTokenDriver();
  const logs = new LogCapture();
  const config = testConfig(raw);
  const parts = serverParts(config);
  const service = createService(config, {
    logger: createLogger({ destination: logs, providers }),
    drivers: { aws: { token: driver } },
    ...parts,
  });
  const auditLines = () =>
    readFileSync(config.audit.file ?? "", "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const transport = createRouterTransport((router) =>
    router.service(ClusterTokenService, connectImplementation(ClusterTokenService, service.invoke)),
  );
  return { service, audit: parts.audit, driver, logs, auditLines, client: createClient(ClusterTokenService, transport) };
}

describe("the service in memory", () => {
  it("issues through the real pipeline with an in-memory driver, and audits and logs the call", async () => {
    const { service, audit, driver, logs, client } = inMemoryService();
    try {
      const response = await client.generateToken({ clusterId: "demo-eks" });
      assert.equal(response.status?.token, "test-token-demo-eks-1");
      assert.equal(driver.minted, 1);
      assert.ok(logs.records().some((r) => r.msg === "rpc" && r.code === "OK" && r.rpc === "GenerateToken"));
      const missing = await expectError(client.generateToken({ clusterId: "nope" }), Code.NotFound);
      assert.equal(missing.info.reason, "CLUSTER_NOT_FOUND");
      assert.deepEqual(
        (await client.listClusters({})).clusters.map((c) => c.id),
        ["demo-eks", "no-endpoint"],
      );
    } finally {
      await service.close();
      await audit.close();
    }
  });

  it("reuses a caller's token, audits each issuance, and mints afresh when the cache is off", async () => {
    const { service, audit, driver, client, auditLines } = inMemoryService();
    try {
      const first = await client.generateToken({ clusterId: "demo-eks" });
      const second = await client.generateToken({ clusterId: "demo-eks" });
      assert.equal(second.status?.token, first.status?.token);
      assert.deepEqual(second.status?.expirationTimestamp, first.status?.expirationTimestamp, "the token's true expiry");
      assert.equal(driver.minted, 1);
      const issued = auditLines().filter((l) => l.outcome === "issued");
      assert.equal(issued.length, 2, "every issuance is audited, cached or not");
      assert.equal(new Set(issued.map((l) => l.tokenFingerprint)).size, 1);
    } finally {
      await service.close();
      await audit.close();
    }
    const uncachedConfig = testConfig({ ...rawTestConfig(), tokenCache: { enabled: false } });
    const uncachedParts = serverParts(uncachedConfig);
    const uncached = createService(uncachedConfig, {
      logger: createLogger({ destination: new LogCapture(), providers }),
      drivers: { aws: { token: driver } },
      ...uncachedParts,
    });
    const uncachedClient = createClient(
      ClusterTokenService,
      createRouterTransport((router) => router.service(ClusterTokenService, connectImplementation(ClusterTokenService, uncached.invoke))),
    );
    try {
      const a = await uncachedClient.generateToken({ clusterId: "demo-eks" });
      const b = await uncachedClient.generateToken({ clusterId: "demo-eks" });
      assert.notEqual(a.status?.token, b.status?.token);
    } finally {
      await uncached.close();
      await uncachedParts.audit.close();
    }
  });

  it("closes what it owns, its drivers; issues nothing once the server has closed the audit sink", async () => {
    const { service, audit, client } = inMemoryService();
    const closed: string[] = [];
    const trackedConfig = testConfig();
    const trackedParts = serverParts(trackedConfig);
    const tracked = createService(trackedConfig, {
      logger: createLogger({ destination: new LogCapture(), providers }),
      drivers: { aws: { token: new InMemoryTokenDriver(), close: () => closed.push("aws") } },
      ...trackedParts,
    });
    await tracked.close();
    assert.deepEqual(closed, ["aws"]);
    await trackedParts.audit.close();
    await service.close();
    await audit.close();
    const afterClose = await expectError(client.generateToken({ clusterId: "demo-eks" }), Code.Unavailable);
    assert.equal(afterClose.info.reason, "AUDIT_FAILED", "a closed audit sink fails closed: nothing is issued");
  });

  it("names a canceled call as gRPC does in the log and the audit, and as grpc-go does in the metrics", async () => {
    let minting: () => void = () => {};
    const asked = new Promise<void>((resolve) => (minting = resolve));
    // A cloud that never answers: the call ends only because its caller goes away.
    const hanging: TokenDriver = {
      mintToken: (_cluster, signal) =>
        new Promise((_, reject) => {
          minting();
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        }),
    };
    const logs = new LogCapture();
    const config = testConfig();
    const { audit, metrics } = serverParts(config);
    const service = createService(config, {
      logger: createLogger({ destination: logs, providers }),
      drivers: { aws: { token: hanging } },
      audit,
      metrics,
    });
    const client = createClient(
      ClusterTokenService,
      createRouterTransport((router) => router.service(ClusterTokenService, connectImplementation(ClusterTokenService, service.invoke))),
    );
    const caller = new AbortController();
    const call = expectCode(client.generateToken({ clusterId: "demo-eks" }, { signal: caller.signal }), Code.Canceled);
    await asked;
    caller.abort();
    await call;
    await service.close(); // once the call has ended on the service's side too
    await audit.close();
    const line = logs.records().find((r) => r.msg === "rpc");
    assert.deepEqual([line?.code, line?.reason], ["CANCELLED", "CANCELED"]);
    const audited = readFileSync(config.audit.file ?? "", "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      audited.map((l) => [l.outcome, l.code, l.reason]),
      [["failed", "CANCELLED", "CANCELED"]],
    );
    assert.match(await metrics.scrape(), /grpc_server_handled_total\{[^}]*grpc_method="GenerateToken"[^}]*grpc_code="Canceled"\} 1/);
  });
});
