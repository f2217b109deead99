import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { createServer as createHttpsServer, type Server } from "node:https";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ClusterTokenService } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { maxUpstreamResponseBytes } from "../../src/drivers/upstream-fetch.js";
import { type AzureFixture, apps, clientSecret, createAzureFixture, subscriptionId, tenantId } from "../drivers/azure/azure-fixture.js";
import { expectError } from "../support/error-info.js";
import { type OversizedServer, startOversizedServer } from "../support/oversized-server.js";
import { type ServeProcess, startServeProcess } from "../support/serve-process.js";
import { rawTestConfig } from "../support/test-config.js";
import { createTestPki } from "../support/test-pki.js";

const MiB = 1024 * 1024;
const nksUuid = "7E57C0DE-0000-4000-8000-0000000000B1";
const childEnv = { CTS_TEST_NCP_ACCESS_KEY: "NCPBIGKEY", CTS_TEST_NCP_SECRET_KEY: "ncp-big-secret" };

/** The process's resident set, from /proc. */
async function rssOf(pid: number): Promise<number> {
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kib) * 1024;
}

/**
 * Upstreams that cannot be trusted or that answer too much, against `cluster-token
 * serve` itself: Azure's caFile for Entra ID and ARM, UPSTREAM_TLS_UNTRUSTED tried
 * once, and a 50 MB answer read no further than the cap.
 */
describe("upstream trust and bounds on the real process", () => {
  let f: AzureFixture;
  let strangerArm: Server;
  let big: OversizedServer;
  let svc: ServeProcess;
  let metricsUrl: string;
  const client = () => createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${svc.grpc}` }));
  const metrics = async () => (await fetch(`${metricsUrl}/metrics`)).text();

  before(async () => {
    f = await createAzureFixture();
    // An ARM whose certificate comes from a CA that nobody configured.
    const stranger = await createTestPki("a CA nobody trusts");
    const cert = await stranger.issue("arm", { cn: "management.example", sans: ["IP:127.0.0.1"], usage: "server" });
    strangerArm = createHttpsServer({ cert: cert.cert, key: cert.key }, (_req, res) => res.writeHead(500).end());
    big = await startOversizedServer(2 * MiB);
    await writeFile(join(f.dir, "client-secret"), clientSecret);
    const azure = {
      provider: "azure",
      source: "clientSecret",
      tenantId,
      clientId: apps.secret,
      clientSecret: { file: join(f.dir, "client-secret") },
      authorityHost: f.azure.entra.url,
    };
    const aks = (id: string, credentials: string, apiEndpoint: string) => ({
      id,
      provider: "azure",
      subscriptionId,
      resourceGroup: "rg-alpha",
      name: "alpha",
      credentials,
      apiEndpoint,
    });
    const raw = rawTestConfig() as { listen: Record<string, string> };
    raw.listen.metrics = "127.0.0.1:0";
    svc = await startServeProcess(
      {
        ...raw,
        credentials: {
          "aks-trusting": { ...azure, caFile: f.caFile },
          "aks-untrusting": azure,
          ncp: { provider: "ncp", accessKey: { env: "CTS_TEST_NCP_ACCESS_KEY" }, secretKey: { env: "CTS_TEST_NCP_SECRET_KEY" } },
        },
        clusters: [
          aks("alpha-aks", "aks-trusting", f.azure.arm.url),
          aks("untrusting-aks", "aks-untrusting", f.azure.arm.url),
          aks("stranger-arm-aks", "aks-trusting", f.azure.arm.url),
          { id: "big-nks", provider: "ncp", region: "KR", uuid: nksUuid, credentials: "ncp", apiEndpoint: big.url },
        ],
      },
      { env: childEnv },
    );
    metricsUrl = `http://${String((await svc.waitForLine((l) => l.msg === "serving")).metrics)}`;
  });
  after(async () => {
    svc?.child.kill("SIGTERM");
    await svc?.exited();
    if (strangerArm?.listening) await new Promise((resolve) => strangerArm.close(resolve));
    await big?.close();
    await f?.azure.close();
  });

  it("trusts caFile for ARM as for Entra ID: a kubeconfig discovered through HTTPS ARM", async () => {
    const { kubeconfig } = await client().getKubeconfig({ clusterId: "alpha-aks" });
    assert.match(kubeconfig, /server: https:\/\/alpha-dns\.hcp\.westeurope\.azmk8s\.io:443/);
    assert.equal(f.azure.verifyAksToken(/token: (\S+)/.exec(kubeconfig)?.[1] ?? "").ok, true);
  });

  it("answers an untrusted Entra ID with FAILED_PRECONDITION UPSTREAM_TLS_UNTRUSTED after one attempt", async () => {
    const { info } = await expectError(client().generateToken({ clusterId: "untrusting-aks" }), Code.FailedPrecondition);
    assert.deepEqual([info.reason, info.metadata.provider, info.metadata.operation], ["UPSTREAM_TLS_UNTRUSTED", "azure", "entra:token"]);
    const text = await metrics();
    assert.ok(
      text.includes('cluster_token_upstream_seconds_count{provider="azure",operation="token",outcome="UPSTREAM_TLS_UNTRUSTED"} 1\n'),
      "one attempt, not retried",
    );
    assert.ok(!text.includes('outcome="UPSTREAM_UNREACHABLE"'), "not reported as an outage");
  });

  it("answers an ARM whose certificate nobody trusts with UPSTREAM_TLS_UNTRUSTED, once", async () => {
    // Something else now answers at ARM's address (the scope Entra ID grants names it), with a certificate of its own.
    const port = Number(new URL(f.azure.arm.url).port);
    await f.azure.arm.close();
    await new Promise<void>((resolve) => strangerArm.listen(port, "127.0.0.1", resolve));
    const { info } = await expectError(client().getKubeconfig({ clusterId: "stranger-arm-aks" }), Code.FailedPrecondition);
    assert.deepEqual([info.reason, info.metadata.operation], ["UPSTREAM_TLS_UNTRUSTED", "arm:listClusterUserCredential"]);
    assert.ok(
      (await metrics()).includes(
        'cluster_token_upstream_seconds_count{provider="azure",operation="discovery",outcome="UPSTREAM_TLS_UNTRUSTED"} 1\n',
      ),
    );
  });

  it(`reads a 50 MB answer no further than ${maxUpstreamResponseBytes / MiB} MiB: the process's memory stays flat`, async () => {
    // Once with a small oversized answer, so that what the first discovery loads is not counted.
    assert.equal(
      (await expectError(client().getKubeconfig({ clusterId: "big-nks" }), Code.Unavailable)).info.reason,
      "UPSTREAM_BAD_RESPONSE",
    );
    const before = await rssOf(svc.child.pid!);
    big.bytes = 50 * MiB;
    const { info } = await expectError(client().getKubeconfig({ clusterId: "big-nks" }), Code.Unavailable);
    assert.equal(info.reason, "UPSTREAM_BAD_RESPONSE");
    const grownMiB = ((await rssOf(svc.child.pid!)) - before) / MiB;
    assert.ok(grownMiB < 20, `RSS grew by ${grownMiB.toFixed(1)} MiB for a 50 MiB answer`);
    const sentMiB = (await big.lastSent()) / MiB;
    assert.ok(sentMiB < 10, `the upstream got ${sentMiB.toFixed(1)} MiB out before the service closed the connection`);
  });
});
