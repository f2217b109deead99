import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { KubeconfigMode } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { verifyEksToken } from "../fakes/eks-token-verifier.js";
import { startFakeKubeApiServer, type FakeKubeApiServer } from "../fakes/fake-kube-apiserver.js";
import { startFakeNcp, type FakeNcp } from "../fakes/fake-ncp.js";
import { startFakeAlibaba, type FakeAlibaba } from "../fakes/fake-alibaba.js";
import { freePort } from "../support/free-port.js";
import { cliPath } from "../support/paths.js";
import { startTestService, type RunningService } from "../support/running-service.js";
import { createTestPki } from "../support/test-pki.js";
import { testAuditFile, testAwsKeys, testConfig } from "../support/test-config.js";

const nksUuid = "C0FFEE00-1234-4000-8000-00000000ABCD";
const ncpKeys = { accessKey: "NCPKUBECTLKEY", secretKey: "ncp-kubectl-secret" };
process.env.CTS_KUBECTL_NCP_ACCESS = ncpKeys.accessKey;
process.env.CTS_KUBECTL_NCP_SECRET = ncpKeys.secretKey;
const ackClusterId = "c0kubectl0000000000000000000000001";
const aliKeys = { accessKeyId: "LTAI5tKubectlTestKey01", accessKeySecret: "alibaba-kubectl-secret-0123456789" };
process.env.CTS_KUBECTL_ALI_ID = aliKeys.accessKeyId;
process.env.CTS_KUBECTL_ALI_SECRET = aliKeys.accessKeySecret;

/** The clock of the service and of the fake clusters alike, so expiry can be reached without waiting. */
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);

describe("kubectl end to end against fake API servers", () => {
  let svc: RunningService;
  let eksApi: FakeKubeApiServer;
  let nksApi: FakeKubeApiServer;
  let ncp: FakeNcp;
  let ackApi: FakeKubeApiServer;
  let ali: FakeAlibaba;
  let home: string;

  before(async () => {
    const pki = await createTestPki();
    const serving = await pki.issue("apiserver", { cn: "kube-apiserver", sans: ["IP:127.0.0.1", "DNS:localhost"], usage: "server" });
    const keys = new Map([[testAwsKeys.accessKeyId, { secretAccessKey: testAwsKeys.secretAccessKey }]]);
    eksApi = await startFakeKubeApiServer({
      ...serving,
      authenticate: (token) => verifyEksToken(token, { clusterName: "demo", region: "us-west-2", keys, now: clock() }),
    });
    ncp = await startFakeNcp({
      keys: { [ncpKeys.accessKey]: ncpKeys.secretKey },
      clusters: { [nksUuid]: { region: "KR", server: "unused", caData: pki.caData } },
    });
    nksApi = await startFakeKubeApiServer({ ...serving, authenticate: (token) => ncp.verifyNksToken(token, nksUuid, clock()) });
    ackApi = await startFakeKubeApiServer({ ...serving, authenticate: (token) => ali.verifyAckToken(token, ackClusterId, clock()) });
    // The ACK cluster is registered without endpoint or CA: the service discovers them from the fake Container Service.
    ali = await startFakeAlibaba({
      keys: { [aliKeys.accessKeyId]: aliKeys.accessKeySecret },
      roles: {},
      clusters: { [ackClusterId]: { server: ackApi.url, caData: pki.caData } },
    });
    const port = await freePort();
    svc = await startTestService(
      testConfig({
        security: { insecurePlaintext: true },
        audit: { file: testAuditFile() },
        listen: { grpc: "127.0.0.1:0", http: `127.0.0.1:${port}` },
        publicUrl: `http://127.0.0.1:${port}`,
        kubeconfig: { execCommand: [process.execPath, cliPath] },
        credentials: {
          "aws-test": {
            provider: "aws",
            accessKeyId: { env: "CTS_TEST_AWS_ACCESS_KEY_ID" },
            secretAccessKey: { env: "CTS_TEST_AWS_SECRET_ACCESS_KEY" },
          },
          ncp: { provider: "ncp", accessKey: { env: "CTS_KUBECTL_NCP_ACCESS" }, secretKey: { env: "CTS_KUBECTL_NCP_SECRET" } },
          alibaba: { provider: "alibaba", accessKeyId: { env: "CTS_KUBECTL_ALI_ID" }, accessKeySecret: { env: "CTS_KUBECTL_ALI_SECRET" } },
        },
        clusters: [
          {
            id: "demo-eks",
            provider: "aws",
            region: "us-west-2",
            name: "demo",
            credentials: "aws-test",
            endpoint: eksApi.url,
            certificateAuthorityData: pki.caData,
          },
          // Served by the same API server, whose own cluster name is "demo": tokens for "other" must fail there.
          {
            id: "other-eks",
            provider: "aws",
            region: "us-west-2",
            name: "other",
            credentials: "aws-test",
            endpoint: eksApi.url,
            certificateAuthorityData: pki.caData,
          },
          {
            id: "demo-nks",
            provider: "ncp",
            region: "KR",
            uuid: nksUuid,
            credentials: "ncp",
            endpoint: nksApi.url,
            certificateAuthorityData: pki.caData,
          },
          {
            id: "demo-ack",
            provider: "alibaba",
            region: "cn-hangzhou",
            clusterId: ackClusterId,
            credentials: "alibaba",
            apiEndpoint: ali.cs.url,
          },
        ],
      }),
      { clock: { now: () => clock().getTime() } },
    );
    home = await mkdtemp(join(tmpdir(), "cts-kubectl-home-"));
  });
  after(async () => {
    await svc.close();
    await eksApi.close();
    await nksApi.close();
    await ncp.close();
    await ackApi.close();
    await ali.close();
  });

  async function kubeconfigFile(clusterId: string, mode: KubeconfigMode): Promise<string> {
    const { kubeconfig } = await svc.connect.getKubeconfig({ clusterId, mode });
    const file = join(await mkdtemp(join(tmpdir(), "cts-kubeconfig-")), "config");
    await writeFile(file, kubeconfig, { mode: 0o600 });
    return file;
  }

  /** Runs kubectl as a user would, with a clean HOME and no inherited KUBECONFIG or cloud credentials. */
  async function kubectl(file: string): Promise<{ ok: boolean; stdout: string; stderr: string }> {
    try {
      // A fresh credential cache per run: these tests move the service's clock ahead of the real one, which
      // an on-disk cache judged by the real clock cannot know.
      const cacheDir = await mkdtemp(join(tmpdir(), "cts-kubectl-cache-"));
      const { stdout, stderr } = await promisify(execFile)("kubectl", ["--kubeconfig", file, "get", "--raw", "/version"], {
        env: { PATH: process.env.PATH, HOME: home, CLUSTER_TOKEN_CACHE_DIR: cacheDir },
        timeout: 30_000,
      });
      return { ok: true, stdout, stderr };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      return { ok: false, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
  }

  for (const [clusterId, api] of [
    ["demo-eks", () => eksApi],
    ["demo-nks", () => nksApi],
    ["demo-ack", () => ackApi],
  ] as const) {
    for (const [mode, label] of [
      [KubeconfigMode.EMBEDDED_TOKEN, "an embedded-token"],
      [KubeconfigMode.EXEC, "an exec"],
    ] as const) {
      it(`${clusterId}: kubectl get --raw /version succeeds with ${label} kubeconfig`, async () => {
        const before = api().presented.length;
        const result = await kubectl(await kubeconfigFile(clusterId, mode));
        assert.ok(result.ok, result.stderr);
        assert.equal((JSON.parse(result.stdout) as { gitVersion: string }).gitVersion, "v1.31.0-fake");
        assert.ok(
          api()
            .presented.slice(before)
            .every((p) => p.verdict.ok),
          "every token kubectl presented was accepted",
        );
      });
    }
  }

  it("a token minted for another cluster is refused with 401, embedded or through exec", async () => {
    for (const mode of [KubeconfigMode.EMBEDDED_TOKEN, KubeconfigMode.EXEC]) {
      const result = await kubectl(await kubeconfigFile("other-eks", mode));
      assert.equal(result.ok, false);
      assert.match(result.stderr, /Unauthorized/);
      assert.deepEqual(eksApi.presented.at(-1)?.verdict, { ok: false, reason: "signature does not match" });
    }
  });

  for (const [clusterId, api, stepMs] of [
    ["demo-eks", () => eksApi, 16 * 60_000],
    ["demo-nks", () => nksApi, 6 * 60_000],
    ["demo-ack", () => ackApi, 16 * 60_000],
  ] as const) {
    it(`${clusterId}: an exec kubeconfig keeps working after the first token has expired; an embedded one does not`, async () => {
      offsetMs = 0;
      const exec = await kubeconfigFile(clusterId, KubeconfigMode.EXEC);
      const embedded = await kubeconfigFile(clusterId, KubeconfigMode.EMBEDDED_TOKEN);
      assert.ok((await kubectl(exec)).ok);
      const first = api().presented.at(-1)!.token;
      try {
        offsetMs = stepMs;
        assert.equal(api().presented.length > 0 && !(await kubectl(embedded)).ok, true, "the embedded token has expired");
        const again = await kubectl(exec);
        assert.ok(again.ok, again.stderr);
        const second = api().presented.at(-1)!;
        assert.notEqual(second.token, first, "kubectl ran the plugin again and got a new token");
        assert.equal(second.verdict.ok, true);
      } finally {
        offsetMs = 0;
      }
    });
  }

  it("the exec kubeconfig holds no token and no secret", async () => {
    const { kubeconfig } = await svc.connect.getKubeconfig({ clusterId: "demo-eks", mode: KubeconfigMode.EXEC });
    for (const leak of ["token:", "k8s-aws-v1.", testAwsKeys.accessKeyId, testAwsKeys.secretAccessKey])
      assert.ok(!kubeconfig.includes(leak), leak);
    assert.match(kubeconfig, /interactiveMode: Never/);
  });

  it("demo-ack: GetKubeconfig discovers the endpoint and CA of a cluster registered without them, and keeps only the cluster entry", async () => {
    const { kubeconfig } = await svc.connect.getKubeconfig({ clusterId: "demo-ack", mode: KubeconfigMode.EXEC });
    assert.ok(kubeconfig.includes(ackApi.url), "the discovered server");
    assert.ok(!kubeconfig.includes("client-certificate-data"), "the Container Service's user entry is never passed on");
    assert.ok(ali.cs.requests.length >= 1, "discovery asked the fake Container Service");
    const { status } = await svc.grpc.generateToken({ clusterId: "demo-ack" });
    const everything = svc.logs.text() + JSON.stringify(await svc.audit());
    for (const leak of [aliKeys.accessKeySecret, status!.token, status!.token.slice(11, 60)])
      assert.ok(!everything.includes(leak), "no ACK secret or token in logs or audit");
  });
});
