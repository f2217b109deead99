import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { ClusterTokenService, KubeconfigMode } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { AuditLog } from "../../src/audit/audit-log.js";
import type { ClusterAccess, ClusterDescriber } from "../../src/drivers/driver.js";
import { createLogger } from "../../src/logging/logger.js";
import { providers } from "../../src/providers.js";
import { createService, type Service } from "../../src/service.js";
import { connectImplementation } from "../../src/transports/connect-transport.js";
import { DiscoveryFixture, withAccess } from "../support/discovery-fixture.js";
import { InMemoryTokenDriver } from "../support/in-memory-driver.js";
import { LogCapture } from "../support/log-capture.js";
import { testCaData } from "../support/test-config.js";

/** A describer that answers from a map and counts its calls. */
class CountingDescriber implements ClusterDescriber {
  calls = 0;
  server = "https://described.example.com";
  async describeCluster(): Promise<ClusterAccess> {
    this.calls++;
    return { server: this.server, certificateAuthorityData: testCaData };
  }
}

let fixture: DiscoveryFixture;
let service: Service | undefined;
let audit: AuditLog | undefined;
afterEach(async () => {
  await service?.close();
  await audit?.close();
  fixture?.close();
});

/** The whole service over the fixture's discovery, with in-memory drivers, behind the router transport. */
async function serviceOverDiscovery() {
  fixture = new DiscoveryFixture();
  fixture.cloud.add("us-west-2", { name: "bare", tags: { env: "prod" } }, withAccess("web"));
  const config = fixture.config([{ id: "acme", regions: ["us-west-2"] }], {
    discovery: { cacheTtlSeconds: 3600, maxStaleSeconds: 0 },
    publicUrl: "https://cluster-token.example.com",
  });
  await fixture.start(config, 1);
  const token = new InMemoryTokenDriver();
  const describer = new CountingDescriber();
  audit = AuditLog.open(config.audit.file, { commitTimeoutMs: 1000 });
  service = createService(config, {
    logger: createLogger({ destination: new LogCapture(), providers }),
    drivers: { aws: { token, describer } },
    metrics: fixture.metrics,
    audit,
    discovery: fixture.discovery,
  });
  const invoke = service.invoke;
  const client = createClient(
    ClusterTokenService,
    createRouterTransport((router) => router.service(ClusterTokenService, connectImplementation(ClusterTokenService, invoke))),
  );
  return { client, token, describer };
}

describe("a service over account discovery", () => {
  it("finds endpoint and CA through the discovery path when the listing gave none, cached like a configured cluster's", async () => {
    const { client, describer } = await serviceOverDiscovery();
    for (let i = 0; i < 3; i++) {
      assert.match(
        (await client.getKubeconfig({ clusterId: "bare.us-west-2.acme" })).kubeconfig,
        /server: https:\/\/described\.example\.com/,
      );
    }
    assert.equal(describer.calls, 1);
    assert.match((await client.getKubeconfig({ clusterId: "web.us-west-2.acme" })).kubeconfig, /server: https:\/\/web\.example\.com/);
    assert.equal(describer.calls, 1, "the listing's endpoint and CA need no discovery");
  });

  it("forgets a discovered cluster's cached tokens and endpoint when a listing changes it", async () => {
    const { client, token, describer } = await serviceOverDiscovery();
    await client.generateToken({ clusterId: "bare.us-west-2.acme" });
    await client.generateToken({ clusterId: "bare.us-west-2.acme" });
    await client.getKubeconfig({ clusterId: "bare.us-west-2.acme", mode: KubeconfigMode.EXEC });
    assert.deepEqual([token.minted, describer.calls], [1, 1]);
    fixture.cloud.add("us-west-2", { name: "bare", tags: { env: "prod", moved: "yes" } });
    describer.server = "https://moved.example.com";
    await fixture.poll(300_000, 1);
    await client.generateToken({ clusterId: "bare.us-west-2.acme" });
    assert.match(
      (await client.getKubeconfig({ clusterId: "bare.us-west-2.acme", mode: KubeconfigMode.EXEC })).kubeconfig,
      /moved\.example\.com/,
    );
    assert.deepEqual([token.minted, describer.calls], [2, 2]);
  });
});
