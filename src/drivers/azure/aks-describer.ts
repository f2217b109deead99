import type { UpstreamCall } from "../../errors/upstream-error.js";
import type { ClusterAccess, ClusterDescriber } from "../driver.js";
import { kubeconfigClusterEntry } from "../kubeconfig-cluster-entry.js";
import { fetchUpstreamJson } from "../upstream-fetch.js";
import { armBase, managedClustersUrl } from "./arm-managed-clusters.js";
import { type AzureCluster, azureProviderName } from "./azure-config.js";
import type { AzureTokens } from "./azure-credentials.js";

/**
 * Discovers an AKS cluster's endpoint and CA with ARM's
 * `managedClusters/listClusterUserCredential` (`format=exec`), authenticated with an
 * Entra ID token for ARM itself. Only the first kubeconfig's cluster entry is kept;
 * its user entry (a kubelogin exec block) is never used.
 */
export class AksClusterDescriber implements ClusterDescriber<AzureCluster> {
  constructor(
    private readonly tokens: AzureTokens,
    private readonly upstreamTimeoutMs: number,
  ) {}

  async describeCluster(cluster: AzureCluster, signal: AbortSignal): Promise<ClusterAccess> {
    const call: UpstreamCall = {
      provider: azureProviderName,
      operation: "arm:listClusterUserCredential",
      metadata: { cluster_id: cluster.id },
    };
    const arm = armBase(cluster.apiEndpoint);
    const { token } = await this.tokens.tokenFor(cluster, `${arm}/.default`, signal);
    const url = managedClustersUrl(arm, cluster, cluster.name, "listClusterUserCredential");
    url.searchParams.set("format", "exec");
    // ARM trusts the credential's caFile as Entra ID does: one TLS-inspecting proxy sits in front of both.
    const body = (await fetchUpstreamJson(call, {
      url,
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      signal,
      timeoutMs: this.upstreamTimeoutMs,
      ca: await this.tokens.caFor(cluster),
    })) as { kubeconfigs?: { value?: unknown }[] };
    const value = body?.kubeconfigs?.[0]?.value;
    return kubeconfigClusterEntry(typeof value === "string" ? Buffer.from(value, "base64").toString("utf8") : undefined, call);
  }
}
