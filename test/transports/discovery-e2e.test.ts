import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { Code } from "@connectrpc/connect";
import { parse } from "yaml";
import { createTestServiceAccount, startFakeGcp, type FakeGcp } from "../fakes/fake-gcp.js";
import { startFakeNcp, type FakeNcp } from "../fakes/fake-ncp.js";
import { expectError } from "../support/error-info.js";
import { startTestService, type RunningService } from "../support/running-service.js";
import { testAuditFile, testCaData, testConfig } from "../support/test-config.js";

const run = promisify(execFile);
const nksUuid = "7E57C0DE-0000-4000-8000-000000000001";

describe("GetKubeconfig for clusters registered without endpoint or CA", () => {
  let gcp: FakeGcp;
  let ncp: FakeNcp;
  let svc: RunningService;
  const secrets: string[] = ["ncp-e2e-secret"];
  before(async () => {
    const account = createTestServiceAccount("kubeconfig@proj-e2e.iam.gserviceaccount.com");
    gcp = await startFakeGcp({
      serviceAccounts: [account],
      clusters: { "proj-e2e/europe-west4/web": { endpoint: "35.4.5.6", caData: testCaData } },
    });
    ncp = await startFakeNcp({
      keys: { NCPE2EKEY: "ncp-e2e-secret" },
      clusters: { [nksUuid]: { region: "SGN", server: "https://web.sgn.vnks.ntruss.com", caData: testCaData } },
    });
    const dir = await mkdtemp(join(tmpdir(), "cts-e2e-"));
    await writeFile(join(dir, "sa.json"), account.keyFile);
    secrets.push((JSON.parse(account.keyFile) as { private_key: string }).private_key.split("\n")[1]!);
    await writeFile(join(dir, "ncp-access"), "NCPE2EKEY\n");
    await writeFile(join(dir, "ncp-secret"), "ncp-e2e-secret\n");
    svc = await startTestService(
      testConfig({
        security: { insecurePlaintext: true },
        audit: { file: testAuditFile() },
        listen: { grpc: "127.0.0.1:0", http: "127.0.0.1:0" },
        credentials: {
          gke: { provider: "gcp", serviceAccountKey: { file: join(dir, "sa.json") }, tokenEndpoint: gcp.tokenUrl },
          nks: { provider: "ncp", accessKey: { file: join(dir, "ncp-access") }, secretKey: { file: join(dir, "ncp-secret") } },
        },
        clusters: [
          {
            id: "web-gke",
            provider: "gcp",
            project: "proj-e2e",
            region: "europe-west4",
            name: "web",
            credentials: "gke",
            apiEndpoint: gcp.url,
          },
          { id: "web-nks", provider: "ncp", region: "SGN", uuid: nksUuid, credentials: "nks", apiEndpoint: ncp.url },
          {
            id: "gone-gke",
            provider: "gcp",
            project: "proj-e2e",
            region: "europe-west4",
            name: "gone",
            credentials: "gke",
            apiEndpoint: gcp.url,
          },
        ],
      }),
    );
  });
  after(async () => {
    await svc.close();
    await gcp.close();
    await ncp.close();
  });

  const cases = [
    { id: "web-gke", server: "https://35.4.5.6", verify: (t: string) => gcp.verifyAccessToken(t) },
    { id: "web-nks", server: "https://web.sgn.vnks.ntruss.com", verify: (t: string) => ncp.verifyNksToken(t, nksUuid) },
  ];
  for (const { id, server, verify } of cases) {
    for (const client of ["connect", "grpc"] as const) {
      it(`${client}: ${id} gets a kubeconfig with the discovered server and CA and a token the cloud accepts`, async () => {
        const { kubeconfig } = await svc[client].getKubeconfig({ clusterId: id });
        const doc = parse(kubeconfig) as { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
        assert.deepEqual(doc.clusters[0]!.cluster, { server, "certificate-authority-data": testCaData });
        assert.deepEqual(Object.keys(doc.users[0]!.user), ["token"], "only the minted token: nothing of NKS's legacy user entry");
        assert.equal(verify(doc.users[0]!.user.token!).ok, true);
        const file = join(await mkdtemp(join(tmpdir(), "cts-e2e-kc-")), "config");
        await writeFile(file, kubeconfig, { mode: 0o600 });
        const { stdout } = await run("kubectl", ["config", "view", "--kubeconfig", file, "-o", "jsonpath={.clusters[0].cluster.server}"]);
        assert.equal(stdout, server);
      });
    }
  }

  it("ListClusters shows a discovered server once it is known", async () => {
    const { clusters } = await svc.connect.listClusters({});
    const gke = clusters.find((c) => c.id === "web-gke")!;
    assert.equal(gke.provider, "gcp");
    assert.equal(gke.endpoint, "https://35.4.5.6");
  });

  it("caches discovery: a second kubeconfig does not ask the cloud again", async () => {
    const asked = () => ncp.requests.filter((r) => r.url.pathname.endsWith("/kubeconfig")).length;
    const before = asked();
    await svc.grpc.getKubeconfig({ clusterId: "web-nks" });
    assert.equal(asked(), before);
  });

  it("a cluster the cloud does not know is NOT_FOUND, and no kubeconfig is produced", async () => {
    const { info } = await expectError(svc.connect.getKubeconfig({ clusterId: "gone-gke" }), Code.NotFound);
    assert.equal(info.reason, "UPSTREAM_NOT_FOUND");
    assert.equal(info.metadata.provider, "gcp");
  });

  it("logs none of the secrets or tokens used", async () => {
    await svc.connect.getKubeconfig({ clusterId: "gone-gke" }).catch(() => undefined);
    const tokens = [...gcp.issued.keys(), (await svc.grpc.generateToken({ clusterId: "web-nks" })).status!.token];
    assert.ok(tokens.length >= 2 && svc.logs.lines.length > 5);
    const logs = svc.logs.text();
    for (const secret of [...secrets, ...tokens]) assert.ok(!logs.includes(secret), `the log leaks ${secret.slice(0, 10)}…`);
  });

  it("GenerateToken works for GKE and NKS too, with each cloud's expiry", async () => {
    const gke = await svc.grpc.generateToken({ clusterId: "web-gke" });
    assert.equal(gcp.verifyAccessToken(gke.status!.token).ok, true);
    const nks = await svc.connect.generateToken({ clusterId: "web-nks" });
    assert.equal(ncp.verifyNksToken(nks.status!.token, nksUuid).ok, true);
    const nksLifetime = Number(nks.status!.expirationTimestamp!.seconds) * 1000 - Date.now();
    assert.ok(nksLifetime > 3 * 60_000 && nksLifetime <= 4 * 60_000);
  });
});
