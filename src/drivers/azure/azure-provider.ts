import { defineProvider } from "../provider-module.js";
import { AksClusterDescriber } from "./aks-describer.js";
import { AksTokenDriver } from "./aks-driver.js";
import { azureClusterSchema, azureCredentialSchema } from "./azure-config.js";
import { AzureTokens } from "./azure-credentials.js";

/** Azure AKS: Entra ID tokens for the AKS server application (MSAL, or IMDS), and ARM for discovery. */
export const azureProvider = defineProvider({
  name: "azure",
  credentialSchema: azureCredentialSchema,
  clusterSchema: azureClusterSchema,
  create(credentials, { upstreamTimeoutMs }) {
    const tokens = new AzureTokens(new Map(Object.entries(credentials)), upstreamTimeoutMs);
    return { token: new AksTokenDriver(tokens), describer: new AksClusterDescriber(tokens, upstreamTimeoutMs) };
  },
});
