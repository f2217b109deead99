import assert from "node:assert/strict";
import { readFile, rm } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import type { AzureCredentialConfig } from "../../../src/drivers/azure/azure-config.js";
import { azureProvider } from "../../../src/drivers/azure/azure-provider.js";
import type { ProviderDrivers } from "../../../src/drivers/driver.js";
import type { ClusterOf } from "../../../src/core/registered-cluster.js";
import { parseConfig } from "../../../src/config/load-config.js";
import { systemClock } from "../../../src/common/clock.js";
import { providers } from "../../../src/providers.js";
import { serviceFailure } from "../../support/service-failure.js";
import { stringify } from "yaml";
import { rawTestConfig, testConfig } from "../../support/test-config.js";
import { startTestService } from "../../support/running-service.js";
import { KubeconfigMode } from "../../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { type AzureFixture, apps, clientSecret, createAzureFixture, tenantId } from "./azure-fixture.js";

describe("AKS tokens from every credential source", () => {
  let f: AzureFixture;
  before(async () => {
    f = await createAzureFixture();
  });
  after(() => f.azure.close());

  const drivers = (entry: Partial<AzureCredentialConfig> & Pick<AzureCredentialConfig, "source">) => {
    const credential = {
      provider: "azure",
      tenantId,
      authorityHost: f.azure.entra.url,
      imdsEndpoint: f.azure.imds.url,
      caFile: f.caFile,
      ...entry,
    } as AzureCredentialConfig;
    return azureProvider.create({ c: credential }, { upstreamTimeoutMs: 10_000, clock: systemClock }) as Required<
      ProviderDrivers<ClusterOf<"azure">>
    >;
  };
  const mint = (entry: Parameters<typeof drivers>[0]) =>
    drivers(entry).token.mintToken(f.cluster("alpha-aks", "alpha", "c"), AbortSignal.timeout(20_000));

  it("client secret: a token for the AKS server application, with its true expiry", async () => {
    process.env.CTS_AZ_SECRET = clientSecret;
    const { token, expiresAt } = await mint({ source: "clientSecret", clientId: apps.secret, clientSecret: { env: "CTS_AZ_SECRET" } });
    assert.deepEqual(f.azure.verifyAksToken(token), { ok: true, identity: apps.secret });
    assert.ok(Math.abs(expiresAt.getTime() - (Date.now() + 3599_000)) < 10_000);
  });

  it("a wrong secret is FAILED_PRECONDITION, and the secret is in no error", async () => {
    process.env.CTS_AZ_WRONG = "not-the-secret-0123456789";
    const err = await serviceFailure(mint({ source: "clientSecret", clientId: apps.secret, clientSecret: { env: "CTS_AZ_WRONG" } }));
    assert.equal(err.code, "FailedPrecondition");
    assert.ok(!`${err.message}${JSON.stringify(err.metadata)}`.includes("not-the-secret"));
  });

  it("client certificate: the fake verified MSAL's x5t#S256 assertion; a foreign or expired certificate is FAILED_PRECONDITION naming the file", async () => {
    const { token } = await mint({
      source: "clientCertificate",
      clientId: apps.certificate,
      clientCertificate: { file: f.certificateFile },
    });
    assert.equal(f.azure.verifyAksToken(token).ok, true);
    const foreign = await serviceFailure(
      mint({ source: "clientCertificate", clientId: apps.certificate, clientCertificate: { file: f.foreignCertificateFile } }),
    );
    assert.equal(foreign.code, "FailedPrecondition");
    const expired = await serviceFailure(
      mint({ source: "clientCertificate", clientId: apps.certificate, clientCertificate: { file: f.expiredCertificateFile } }),
    );
    assert.equal(expired.code, "FailedPrecondition");
    assert.equal(expired.reason, "CREDENTIALS_INVALID");
    assert.match(expired.message, /expired\.pem.*expired on/);
    const key = (await readFile(f.expiredCertificateFile, "utf8")).split("\n")[1] ?? "";
    for (const err of [foreign, expired])
      assert.ok(!`${err.message}${JSON.stringify(err.metadata)}`.includes(key.slice(0, 20)), "no key material in errors");
  });

  it("workload identity: the federated token file is the assertion; a missing file is FAILED_PRECONDITION naming it", async () => {
    const { token } = await mint({ source: "workloadIdentity", clientId: apps.workload, federatedTokenFile: f.federatedTokenFile });
    assert.deepEqual(f.azure.verifyAksToken(token), { ok: true, identity: apps.workload });
    const missing = `${f.dir}/no-such-token`;
    await rm(missing, { force: true });
    const err = await serviceFailure(mint({ source: "workloadIdentity", clientId: apps.workload, federatedTokenFile: missing }));
    assert.equal(err.code, "FailedPrecondition");
    assert.match(err.message, /no-such-token/);
  });

  it("managed identity through IMDS: system-assigned, and user-assigned by client id", async () => {
    const system = await mint({ source: "managedIdentity" });
    assert.deepEqual(f.azure.verifyAksToken(system.token), { ok: true, identity: "system" });
    const user = await mint({ source: "managedIdentity", clientId: apps.managed });
    assert.deepEqual(f.azure.verifyAksToken(user.token), { ok: true, identity: apps.managed });
    const unknown = await serviceFailure(mint({ source: "managedIdentity", clientId: "bbbbbbbb-0000-4000-8000-000000000009" }));
    assert.equal(unknown.code, "FailedPrecondition");
  });

  it("the token endpoint answering 400 invalid_client, 429 or 500 maps to portable codes", async () => {
    process.env.CTS_AZ_SECRET = clientSecret;
    const entry = { source: "clientSecret" as const, clientId: apps.secret, clientSecret: { env: "CTS_AZ_SECRET" } };
    for (const [fault, code] of [
      [
        { status: 400, body: '{"error":"invalid_client","error_description":"AADSTS7000215"}', contentType: "application/json" },
        "FailedPrecondition",
      ],
      [{ status: 429, body: "{}", contentType: "application/json" }, "Unavailable"],
      [{ status: 500, body: "{}", contentType: "application/json" }, "Unavailable"],
    ] as const) {
      f.azure.entra.fault = fault;
      try {
        assert.equal((await serviceFailure(mint(entry))).code, code, JSON.stringify(fault));
      } finally {
        f.azure.entra.fault = undefined;
      }
    }
  });

  it("config validation names every bad key of an azure credential", () => {
    const raw = rawTestConfig() as { credentials: Record<string, unknown> };
    raw.credentials.az = { provider: "azure", source: "clientSecret", clientCertificate: { file: "/x.pem" } };
    const problems = (() => {
      try {
        parseConfig(providers, stringify(raw), "/test/config.yaml");
        return [];
      } catch (err) {
        return [...(err as { problems: string[] }).problems];
      }
    })();
    for (const key of ["tenantId", "clientId", "clientSecret", "clientCertificate"]) {
      assert.ok(
        problems.some((p) => p.startsWith(`credentials.az.${key}:`)),
        `${key}: ${problems.join("; ")}`,
      );
    }
  });

  it("GetKubeconfig discovers an AKS cluster registered without endpoint or CA, and keeps only the cluster entry", async () => {
    process.env.CTS_AZ_SECRET = clientSecret;
    const raw = rawTestConfig() as { credentials: Record<string, unknown>; clusters: unknown[] };
    raw.credentials.az = {
      provider: "azure",
      source: "clientSecret",
      tenantId,
      clientId: apps.secret,
      clientSecret: { env: "CTS_AZ_SECRET" },
      authorityHost: f.azure.entra.url,
      caFile: f.caFile,
    };
    raw.clusters.push({
      id: "alpha-aks",
      provider: "azure",
      subscriptionId: f.cluster("x", "alpha", "az").subscriptionId,
      resourceGroup: "rg-alpha",
      name: "alpha",
      credentials: "az",
      apiEndpoint: f.azure.arm.url,
    });
    const svc = await startTestService(testConfig(raw));
    try {
      const { kubeconfig, expirationTimestamp } = await svc.grpc.getKubeconfig({
        clusterId: "alpha-aks",
        mode: KubeconfigMode.EMBEDDED_TOKEN,
      });
      assert.match(kubeconfig, /server: https:\/\/alpha-dns\.hcp\.westeurope\.azmk8s\.io:443/);
      assert.ok(!kubeconfig.includes("kubelogin"), "ARM's user entry is never passed on");
      const token = /token: (\S+)/.exec(kubeconfig)?.[1] ?? "";
      assert.equal(f.azure.verifyAksToken(token).ok, true, "the embedded token is an AKS token");
      assert.ok(Number(expirationTimestamp?.seconds) > Date.now() / 1000);
      const logs = svc.logs.text() + JSON.stringify(await svc.audit());
      for (const leak of [clientSecret, token]) assert.ok(!logs.includes(leak), "no secret or token in logs or audit");
    } finally {
      await svc.close();
    }
  });
});
