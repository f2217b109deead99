import type { UpstreamCall } from "../../errors/upstream-error.js";
import { kubeconfigClusterEntry } from "../kubeconfig-cluster-entry.js";
import type { ClusterAccess, ClusterDescriber } from "../driver.js";
import { type AlibabaCluster, alibabaProviderName } from "./alibaba-config.js";
import type { ContainerServiceApi } from "./cs-api.js";

/**
 * Discovers an ACK cluster's endpoint and CA with the Container Service API's
 * `DescribeClusterUserKubeconfig` (2015-12-15, `GET /k8s/{ClusterId}/user_config`,
 * the public endpoint), signed with ACS3. Only the kubeconfig's cluster entry is
 * kept: its user entry holds a certificate for the signing identity, which this
 * service never hands out.
 */
export class AckClusterDescriber implements ClusterDescriber<AlibabaCluster> {
  constructor(private readonly api: ContainerServiceApi) {}

  async describeCluster(cluster: AlibabaCluster, signal: AbortSignal): Promise<ClusterAccess> {
    const call: UpstreamCall = {
      provider: alibabaProviderName,
      operation: "cs:DescribeClusterUserKubeconfig",
      metadata: { cluster_id: cluster.id },
    };
    const body = (await this.api.get(
      call,
      cluster,
      cluster.region,
      {
        action: "DescribeClusterUserKubeconfig",
        pathname: `/k8s/${encodeURIComponent(cluster.clusterId)}/user_config`,
        query: { PrivateIpAddress: "false" },
      },
      signal,
    )) as { config?: unknown } | null;
    return kubeconfigClusterEntry(body?.config, call);
  }
}
