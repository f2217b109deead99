import type { ClusterLister } from "../../../src/drivers/cluster-lister.js";
import {
  type AzureAccount,
  type AzureCredentialConfig,
  azureAccountSchema,
  azureCredentialSchema,
} from "../../../src/drivers/azure/azure-config.js";
import { azureProvider } from "../../../src/drivers/azure/azure-provider.js";
import { FakeClock } from "../../support/fake-clock.js";
import { testCaData } from "../../support/test-config.js";
import type { ListerHarness, ListerHarnessEnv } from "../listertest.js";
import { maxLookupPagesPerSubscription } from "../../../src/drivers/azure/aks-lister.js";
import { type AzureFixture, apps, clientSecret, createAzureFixture, subscriptionId, tenantId } from "./azure-fixture.js";

/** The second subscription of the lister's account. */
export const otherSubscriptionId = "88888888-7777-4666-8555-444444444444";
/** Clusters per page of the fake ARM in the lister harnesses: a few clusters make several pages. */
export const armPageSize = 2;
process.env.CTS_AKS_LISTER_SECRET = clientSecret;

/** Where each subscription's clusters are, as ARM reports their location. */
const locations: Record<string, string> = { [subscriptionId]: "westeurope", [otherSubscriptionId]: "eastus" };

/** What a lister harness's env gives tests besides the contract's: the fixture with its fake Azure. */
export type AksListerEnv = ListerHarnessEnv<AzureAccount> & { fixture: AzureFixture };

/** The lister harness of Azure, by subscription or by resource group (see {@link setUpAksLister}). */
export function aksListerHarness(by: "subscription" | "resourceGroup"): ListerHarness<AzureAccount> {
  return { name: `Azure AKS (by ${by})`, pageSize: armPageSize, setUp: () => setUpAksLister(by) };
}

/**
 * An account of two subscriptions (`by: "subscription"`) or of one subscription's
 * two resource groups (`by: "resourceGroup"`), listing with a client secret against
 * the fake Entra ID and ARM (HTTPS, trusted through the credential's caFile), on one
 * fake clock.
 */
export async function setUpAksLister(by: "subscription" | "resourceGroup"): Promise<AksListerEnv> {
  // MSAL judges its cached tokens by the wall clock, so Azure's fake clock starts there.
  const clock = new FakeClock(Date.now());
  const fixture = await createAzureFixture(clock);
  const { arm, entra } = fixture.azure;
  arm.pageSize = armPageSize;
  arm.reset();
  const base = {
    provider: "azure",
    source: "clientSecret",
    tenantId,
    clientId: apps.secret,
    authorityHost: entra.url,
    caFile: fixture.caFile,
  };
  const credentials: Record<string, AzureCredentialConfig> = {
    lister: azureCredentialSchema.parse({ ...base, clientSecret: { env: "CTS_AKS_LISTER_SECRET" } }),
    broken: azureCredentialSchema.parse({ ...base, clientSecret: { env: "CTS_AKS_LISTER_UNSET" } }),
  };
  const groups = ["rg-one", "rg-two"];
  for (const group of groups) arm.putResourceGroup(`${subscriptionId}/${group}`);
  const account = azureAccountSchema.parse({
    id: "acme",
    provider: "azure",
    credentials: "lister",
    apiEndpoint: arm.url,
    ...(by === "subscription"
      ? { subscriptions: [subscriptionId, otherSubscriptionId] }
      : { subscriptions: [subscriptionId], resourceGroups: groups }),
  });
  const place = (scope: string, name: string) => {
    const [sub = "", group = "rg-listed"] = scope.split("/");
    return { sub, path: `${sub}/${group}/${name}` };
  };
  return {
    clock,
    fixture,
    provider: azureProvider,
    newLister: () => azureProvider.create(credentials, { upstreamTimeoutMs: 10_000, clock }).lister as ClusterLister<AzureAccount>,
    account,
    brokenAccount: { ...account, credentials: "broken" },
    fake: {
      server: arm,
      addCluster(scope, name, labels) {
        const { sub, path } = place(scope, name);
        const location = locations[sub] ?? "westeurope";
        arm.putCluster(path, {
          server: `https://${name}-dns.hcp.${location}.azmk8s.io:443`,
          caData: testCaData,
          location,
          tags: { ...labels },
        });
        return location;
      },
      removeCluster: (scope, name) => arm.deleteCluster(place(scope, name).path),
      failPage: (scope, page, fault) => arm.faults.failPage(scope, page, fault),
      denyScope: (scope) => arm.faults.deny(scope),
      partialScope: (scope) => arm.faults.makePartial(scope),
      foreignNextPage: (scope, url) => arm.faults.foreignNext(scope, url),
      apiRequests: () => arm.counts.total(),
      reset: () => arm.reset(),
    },
    // ARM's nextLink pages: one request per page, and one for an empty scope.
    requestsPerListing: ({ clusters }) => Math.max(1, Math.ceil(clusters / armPageSize)),
    // By resource group: one get in each; by subscription: each one's listing, up to its page bound.
    maxRequestsPerLookup: by === "resourceGroup" ? groups.length : 2 * maxLookupPagesPerSubscription,
    secrets: [clientSecret],
    close: () => fixture.azure.close(),
  };
}
