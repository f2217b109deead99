import type { ClusterOf } from "../../../src/core/registered-cluster.js";
import type { AzureCredentialConfig } from "../../../src/drivers/azure/azure-config.js";
import { azureProvider } from "../../../src/drivers/azure/azure-provider.js";
import type { ProviderDrivers } from "../../../src/drivers/driver.js";
import { FakeClock } from "../../support/fake-clock.js";
import { testCaData } from "../../support/test-config.js";
import { runConformance } from "../drivertest.js";
import { apps, clientSecret, createAzureFixture, tenantId } from "./azure-fixture.js";

process.env.CTS_CONF_AZURE_SECRET = clientSecret;

runConformance<ClusterOf<"azure">>({
  name: "Azure AKS",
  async setUp() {
    // MSAL signs its client assertion by the wall clock and takes no clock, so Azure's fake clock starts there; the
    // driver's expiries follow the fake clock from then on.
    const clock = new FakeClock(Date.now());
    const f = await createAzureFixture(clock, {
      [`99999999-8888-4777-8666-555555555555/rg-alpha/beta`]: {
        server: "https://beta-dns.hcp.westeurope.azmk8s.io:443",
        caData: testCaData,
      },
    });
    const base = {
      provider: "azure" as const,
      tenantId,
      authorityHost: f.azure.entra.url,
      imdsEndpoint: f.azure.imds.url,
      caFile: f.caFile,
    };
    // A client certificate: the assertion MSAL signs is verified by the fake (signature, x5t#S256, aud, iss, sub, lifetime).
    const credentials: Record<string, AzureCredentialConfig> = {
      issuer: { ...base, source: "clientCertificate", clientId: apps.certificate, clientCertificate: { file: f.certificateFile } },
      broken: { ...base, source: "clientCertificate", clientId: apps.certificate, clientCertificate: { file: `${f.dir}/missing.pem` } },
      // Another application of the tenant, with a client secret.
      readonly: { ...base, source: "clientSecret", clientId: apps.secret, clientSecret: { env: "CTS_CONF_AZURE_SECRET" } },
    };
    return {
      clock,
      provider: azureProvider,
      newDrivers: () =>
        azureProvider.create(credentials, { upstreamTimeoutMs: 10_000, clock }) as Required<ProviderDrivers<ClusterOf<"azure">>>,
      clusterA: f.cluster("alpha-aks", "alpha", "issuer"),
      clusterB: f.cluster("beta-aks", "beta", "issuer"),
      missingCluster: f.cluster("gamma-aks", "gamma", "issuer"),
      unresolvableCluster: f.cluster("broken-aks", "alpha", "broken"),
      identities: { own: apps.certificate, other: apps.secret, credentials: "readonly" },
      verify: (token) => f.azure.verifyAksToken(token),
      // An Entra ID token for the AKS server application is valid for every AKS cluster of the tenant.
      bindsTokensToCluster: false,
      lifetimeMs: { min: 3599_000 - 5_000, max: 3600_000 },
      expectedAccessA: { server: "https://alpha-dns.hcp.westeurope.azmk8s.io:443", certificateAuthorityData: testCaData },
      mintUpstream: f.azure.entra,
      describeUpstream: f.azure.arm,
      secrets: [],
      close: () => f.azure.close(),
    };
  },
});
