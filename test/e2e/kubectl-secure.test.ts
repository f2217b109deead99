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
import { freePort } from "../support/free-port.js";
import { cliPath } from "../support/paths.js";
import { startTestService, type RunningService } from "../support/running-service.js";
import { createSecureFixture, secureClients, secureRawConfig, type SecureFixture } from "../support/secure-fixture.js";
import { testAwsKeys, testConfig } from "../support/test-config.js";

const run = promisify(execFile);

describe("kubectl through a secured service: exec kubeconfigs carry the client's TLS and API-key flags", () => {
  let f: SecureFixture;
  let api: FakeKubeApiServer;
  let mtls: RunningService;
  let keys: RunningService;
  let dir: string;

  async function secureService(mtlsOn: boolean): Promise<RunningService> {
    const port = await freePort();
    const raw = secureRawConfig(f, { mtls: mtlsOn });
    Object.assign(raw, {
      listen: { grpc: "127.0.0.1:0", http: `127.0.0.1:${port}` },
      publicUrl: `https://127.0.0.1:${port}`,
      kubeconfig: { execCommand: [process.execPath, cliPath] },
    });
    (raw.clusters as Record<string, unknown>[])[0]!.endpoint = api.url;
    (raw.clusters as Record<string, unknown>[])[0]!.certificateAuthorityData = f.pki.caData;
    return startTestService(testConfig(raw));
  }

  before(async () => {
    f = await createSecureFixture();
    const keyMap = new Map([[testAwsKeys.accessKeyId, { secretAccessKey: testAwsKeys.secretAccessKey }]]);
    const serving = await f.pki.issue("apiserver", { cn: "kube-apiserver", sans: ["IP:127.0.0.1"], usage: "server" });
    api = await startFakeKubeApiServer({
      ...serving,
      authenticate: (token) => verifyEksToken(token, { clusterName: "demo", region: "us-west-2", keys: keyMap }),
    });
    mtls = await secureService(true);
    keys = await secureService(false);
    dir = await mkdtemp(join(tmpdir(), "cts-kubectl-secure-"));
    await writeFile(join(dir, "deployer.key"), `${f.keys.deployer.key}\n`, { mode: 0o600 });
  });
  after(async () => {
    await mtls.close();
    await keys.close();
    await api.close();
  });

  async function kubectlWith(
    kubeconfig: string,
    env: Record<string, string> = {},
  ): Promise<{ ok: boolean; stdout: string; stderr: string }> {
    const file = join(await mkdtemp(join(dir, "kc-")), "config");
    await writeFile(file, kubeconfig, { mode: 0o600 });
    return run("kubectl", ["--kubeconfig", file, "get", "--raw", "/version"], {
      env: { PATH: process.env.PATH, HOME: dir, ...env },
      timeout: 30_000,
    }).then(
      ({ stdout, stderr }) => ({ ok: true, stdout, stderr }),
      (err: { stdout?: string; stderr?: string }) => ({ ok: false, stdout: err.stdout ?? "", stderr: err.stderr ?? "" }),
    );
  }

  it("with a client certificate (mTLS)", async () => {
    const ci = secureClients(mtls.server, { ca: f.pki.ca.cert, cert: f.ciCert }).connect;
    const { kubeconfig } = await ci.getKubeconfig({
      clusterId: "demo-eks",
      mode: KubeconfigMode.EXEC,
      execOptions: { caFile: f.pki.ca.certFile, certFile: f.ciCert.certFile, keyFile: f.ciCert.keyFile },
    });
    assert.match(kubeconfig, /--ca-file/);
    assert.ok(!kubeconfig.includes(f.ciCert.key.toString().split("\n")[1]!), "paths, never key material");
    const result = await kubectlWith(kubeconfig);
    assert.ok(result.ok, result.stderr);
    assert.match(result.stdout, /v1\.31\.0-fake/);
    assert.ok(
      (await mtls.audit()).some(
        (l) =>
          l.principal === "spiffe://corp.example/ns/ci/sa/deployer" &&
          l.rpc === "GenerateToken" &&
          l.outcome === "issued" &&
          l.transport === "connect",
      ),
    );
  });

  it("with an API key from a file or the environment, never from argv", async () => {
    // An operator (the reader key) fetches the exec kubeconfig for a CI job that holds the deployer key.
    const deployerKubeconfig = async (execOptions: { apiKeyFile?: string; apiKeyEnv?: string }) => {
      const reader = secureClients(keys.server, { ca: f.pki.ca.cert, apiKey: f.keys.reader.key }).connect;
      return (
        await reader.getKubeconfig({
          clusterId: "demo-eks",
          mode: KubeconfigMode.EXEC,
          execOptions: { caFile: f.pki.ca.certFile, ...execOptions },
        })
      ).kubeconfig;
    };
    const fromFile = await deployerKubeconfig({ apiKeyFile: join(dir, "deployer.key") });
    assert.ok(!fromFile.includes(f.keys.deployer.key));
    const viaFile = await kubectlWith(fromFile);
    assert.ok(viaFile.ok, viaFile.stderr);
    const viaEnv = await kubectlWith(await deployerKubeconfig({ apiKeyEnv: "CTS_DEPLOYER_KEY" }), {
      CTS_DEPLOYER_KEY: f.keys.deployer.key,
    });
    assert.ok(viaEnv.ok, viaEnv.stderr);
    assert.ok((await keys.audit()).some((l) => l.principal === "key:deployer" && l.outcome === "issued"));
  });

  it("the credential command explains TLS and credential failures", async () => {
    const credential = (args: string[], env: Record<string, string> = {}) =>
      run(process.execPath, [cliPath, "credential", "--cluster", "demo-eks", ...args], { env: { PATH: process.env.PATH, ...env } }).then(
        () => ({ code: 0, stderr: "" }),
        (err: { code?: number; stderr?: string }) => ({ code: err.code ?? 1, stderr: err.stderr ?? "" }),
      );
    const mtlsUrl = `https://${mtls.server.httpAddress}`;
    const noCa = await credential(["--server", mtlsUrl]);
    assert.equal(noCa.code, 1);
    assert.match(noCa.stderr, /TLS connection to .* failed .*check --ca-file/);
    const noCert = await credential(["--server", mtlsUrl, "--ca-file", f.pki.ca.certFile]);
    assert.equal(noCert.code, 1);
    assert.match(noCert.stderr, /check --ca-file, and --cert-file\/--key-file/);
    const noKey = await credential(["--server", `https://${keys.server.httpAddress}`, "--ca-file", f.pki.ca.certFile]);
    assert.match(noKey.stderr, /did not accept this client's identity .*check the client certificate or API key/);
    const unsetEnv = await credential([
      "--server",
      `https://${keys.server.httpAddress}`,
      "--ca-file",
      f.pki.ca.certFile,
      "--api-key-env",
      "CTS_NOT_SET",
    ]);
    assert.match(unsetEnv.stderr, /--api-key-env names CTS_NOT_SET, which is not set/);
    const missingFile = await credential(["--server", mtlsUrl, "--ca-file", "/nonexistent/ca.pem"]);
    assert.match(missingFile.stderr, /cannot read --ca-file \/nonexistent\/ca\.pem \(ENOENT\)/);
    const denied = await credential([
      "--server",
      `https://${keys.server.httpAddress}`,
      "--ca-file",
      f.pki.ca.certFile,
      "--api-key-file",
      join(dir, "deployer.key"),
      "--cluster",
      "prod-eks",
    ]);
    assert.match(denied.stderr, /you may not get credentials for cluster "prod-eks"/);
    for (const out of [noCa, noCert, noKey, unsetEnv, denied]) assert.ok(!out.stderr.includes(f.keys.deployer.key));
  });
});
