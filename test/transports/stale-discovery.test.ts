import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { startFakeEks } from "../fakes/fake-eks.js";
import type { FakeServer } from "../fakes/fake-http-server.js";
import { expectError } from "../support/error-info.js";
import { startTestService, type RunningService } from "../support/running-service.js";
import { rawTestConfig, testAwsKeys, testCaData, testConfig } from "../support/test-config.js";

/** A cloud API down after discovery: what the service already knows keeps working. */
describe("stale-if-error discovery", () => {
  let eks: FakeServer;
  let svc: RunningService;
  before(async () => {
    const keys = new Map([[testAwsKeys.accessKeyId, { secretAccessKey: testAwsKeys.secretAccessKey }]]);
    eks = await startFakeEks({
      region: "us-west-2",
      keys,
      clusters: { found: { endpoint: "https://found.eks.example.com", caData: testCaData } },
    });
    const raw = rawTestConfig() as { clusters: unknown[] };
    raw.clusters = [{ id: "found", provider: "aws", region: "us-west-2", name: "found", credentials: "aws-test", apiEndpoint: eks.url }];
    // Every call asks the cloud again, so that every call after the outage begins needs the stale answer.
    svc = await startTestService(testConfig({ ...raw, discovery: { cacheTtlSeconds: 0, maxStaleSeconds: 3600 } }));
  });
  after(async () => {
    await svc.close();
    await eks.close();
  });

  it("answers GetKubeconfig from the last known endpoint and CA while the cloud's API fails, and says so in the log", async () => {
    const before = await svc.grpc.getKubeconfig({ clusterId: "found" });
    assert.match(before.kubeconfig, /server: https:\/\/found\.eks\.example\.com/);
    try {
      eks.fault = { status: 503, body: "" };
      const during = await svc.connect.getKubeconfig({ clusterId: "found" });
      assert.match(during.kubeconfig, /server: https:\/\/found\.eks\.example\.com/);
      assert.match(during.kubeconfig, new RegExp(`certificate-authority-data: ${testCaData.slice(0, 40)}`));
      assert.ok(
        svc.logs.records().some((r) => r.level === "warn" && String(r.msg).startsWith("discovery failed; serving the last known endpoint")),
      );
      eks.fault = { status: 404, body: "{}", contentType: "application/json" };
      assert.equal(
        (await expectError(svc.grpc.getKubeconfig({ clusterId: "found" }), Code.NotFound)).info.reason,
        "UPSTREAM_NOT_FOUND",
        "a cluster gone is not an outage",
      );
    } finally {
      eks.fault = undefined;
    }
  });
});
