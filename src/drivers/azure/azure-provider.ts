import { defineProvider } from "../provider-module.js";
import { lazyDrivers } from "../lazy-drivers.js";
import { azureClusterSchema, azureCredentialSchema, azureProviderName } from "./azure-config.js";

/** Azure AKS: Entra ID tokens for the AKS server application (MSAL, or IMDS), and ARM for discovery; imported once configured. */
export const azureProvider = defineProvider({
  name: azureProviderName,
  credentialSchema: azureCredentialSchema,
  clusterSchema: azureClusterSchema,
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
  create(credentials, options) {
    return lazyDrivers(async () => {
      const [{ AzureTokens }, { AksClusterDescriber }, { AksTokenDriver }] = await Promise.all([
        import("./azure-credentials.js"),
        import("./aks-describer.js"),
        import("./aks-driver.js"),
      ]);
      const tokens = new AzureTokens(new Map(Object.entries(credentials)), options);
      return { token: new AksTokenDriver(tokens), describer: new AksClusterDescriber(tokens, options.upstreamTimeoutMs) };
    });
  },
});
