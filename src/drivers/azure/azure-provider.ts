import { defineProvider, lazyDrivers } from "../provider-module.js";
import { azureClusterSchema, azureCredentialSchema } from "./azure-config.js";

/** Azure AKS: Entra ID tokens for the AKS server application (MSAL, or IMDS), and ARM for discovery; imported once configured. */
export const azureProvider = defineProvider({
  name: "azure",
  credentialSchema: azureCredentialSchema,
  clusterSchema: azureClusterSchema,
  create(credentials, { upstreamTimeoutMs }) {
    return lazyDrivers(async () => {
      const [{ AzureTokens }, { AksClusterDescriber }, { AksTokenDriver }] = await Promise.all([
        import("./azure-credentials.js"),
        import("./aks-describer.js"),
        import("./aks-driver.js"),
      ]);
      const tokens = new AzureTokens(new Map(Object.entries(credentials)), upstreamTimeoutMs);
      return { token: new AksTokenDriver(tokens), describer: new AksClusterDescriber(tokens, upstreamTimeoutMs) };
    });
  },
});
