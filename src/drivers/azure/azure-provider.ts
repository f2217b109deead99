import { defineProvider } from "../provider-module.js";
import { lazyDrivers } from "../lazy-drivers.js";
import { azureScopes } from "./arm-managed-clusters.js";
import { azureAccountSchema, azureClusterSchema, azureCredentialSchema, azureProviderName } from "./azure-config.js";

/**
 * What discovery knows of Azure accounts: their scopes are subscriptions (or
 * subscription and resource group pairs), not locations, and a cluster may be in any
 * location, so an account names no regions: a lookup is asked of the whole account.
 */
const azureDiscovery = {
  accountSchema: azureAccountSchema,
  filterKey: "tags" as const,
  scopes: azureScopes,
  regions: (): readonly string[] | undefined => undefined,
};

/**
 * Azure AKS: Entra ID tokens for the AKS server application (MSAL, or IMDS), and ARM
 * for discovery and for listing accounts' clusters; imported once configured.
 */
export const azureProvider = defineProvider({
  name: azureProviderName,
  credentialSchema: azureCredentialSchema,
  clusterSchema: azureClusterSchema,
  discovery: azureDiscovery,
  secretShapes: {
    patterns: [
      // Entra ID access tokens (AKS and ARM) are JWTs; so are client assertions and federated tokens.
      /eyJ[\w-]+\.[\w-]+\.[\w-]*/g,
      // Client secrets of app registrations: three characters, a digit, "Q~", then 31 to 34 more.
      /[\w.~-]{3}\dQ~[\w.~-]{31,34}/g,
    ],
    fields: ["clientSecret", "client_secret", "client_assertion", "access_token", "accessToken"],
  },
  // AKS knows a cluster by subscription, resource group and name; the location is what the entry gives.
  placement: ({ region, name }) => ({ region, name }),
  /** The token driver, the describer and the lister share one set of Entra ID applications and cached tokens. */
  create(credentials, options) {
    return lazyDrivers(
      async () => {
        const [{ AzureTokens }, { AksClusterDescriber }, { AksTokenDriver }, { AksClusterLister }] = await Promise.all([
          import("./azure-credentials.js"),
          import("./aks-describer.js"),
          import("./aks-driver.js"),
          import("./aks-lister.js"),
        ]);
        const tokens = new AzureTokens(new Map(Object.entries(credentials)), options);
        return {
          token: new AksTokenDriver(tokens),
          describer: new AksClusterDescriber(tokens, options.upstreamTimeoutMs),
          lister: new AksClusterLister(tokens, options.upstreamTimeoutMs),
        };
      },
      { lister: true },
    );
  },
});
