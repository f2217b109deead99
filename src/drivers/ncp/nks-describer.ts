import { type NcpCluster, ncpProviderName } from "./ncp-config.js";
import type { ClusterAccess, ClusterDescriber } from "../driver.js";
import type { UpstreamCall } from "../../errors/upstream-error.js";
import { kubeconfigClusterEntry } from "../kubeconfig-cluster-entry.js";
import type { NksApi } from "./nks-api.js";
import { ncpStage } from "./ncp-signature.js";

/**
 * Discovers an NKS cluster's endpoint and CA as ncp-iam-authenticator does: the NKS
 * kubeconfig API (signed with the API gateway's signature v2), keeping only its
 * cluster entry. Its user entry is never used, so no credential from it can leak
 * into a kubeconfig this service builds.
 */
export class NksClusterDescriber implements ClusterDescriber<NcpCluster> {
  constructor(private readonly api: NksApi) {}

  async describeCluster(cluster: NcpCluster, signal: AbortSignal): Promise<ClusterAccess> {
    const call: UpstreamCall = { provider: ncpProviderName, operation: "nks:GetKubeconfig", metadata: { cluster_id: cluster.id } };
    const path = `/vnks/${ncpStage(cluster.region, "v2")}/clusters/${encodeURIComponent(cluster.uuid)}/kubeconfig`;
    const body = (await this.api.get(call, cluster, path, signal)) as { kubeconfig?: unknown } | null;
    return kubeconfigClusterEntry(body?.kubeconfig, call);
  }
}
