import { abandonedError } from "../../errors/upstream-error.js";
import type { MintedToken, TokenDriver } from "../driver.js";
import { type AzureCluster, aksServerAppId, azureProviderName } from "./azure-config.js";
import type { AzureTokens } from "./azure-credentials.js";

/**
 * The AKS token driver: an Entra ID access token for the AKS AAD server application
 * (`6dae42f8-…/.default`, the same in every Azure cloud), what kubelogin's spn,
 * workloadidentity and msi modes mint. The expiry reported is the token's own.
 */
export class AksTokenDriver implements TokenDriver<AzureCluster> {
  constructor(private readonly tokens: AzureTokens) {}

  async mintToken(cluster: AzureCluster, signal: AbortSignal): Promise<MintedToken> {
    if (signal.aborted)
      throw abandonedError({ provider: azureProviderName, operation: "token", metadata: { cluster_id: cluster.id } }, signal);
    return this.tokens.tokenFor(cluster, `${aksServerAppId}/.default`, signal);
  }
}
