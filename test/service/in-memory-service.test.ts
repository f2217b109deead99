import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { ClusterTokenService } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { AuditLog } from "../../src/audit/audit-log.js";
import type { ServiceConfig } from "../../src/config/config-schema.js";
import { createLogger } from "../../src/logging/logger.js";
import { providers } from "../../src/providers.js";
import { ServiceMetrics } from "../../src/metrics/service-metrics.js";
import { createService } from "../../src/service.js";
import { connectImplementation } from "../../src/transports/connect-transport.js";
import { expectError } from "../support/error-info.js";
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
});
