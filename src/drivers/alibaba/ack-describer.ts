import type { UpstreamCall } from "../../errors/upstream-error.js";
import { kubeconfigClusterEntry } from "../kubeconfig-cluster-entry.js";
import type { ClusterAccess, ClusterDescriber } from "../driver.js";
import { fetchUpstreamJson } from "../upstream-fetch.js";
import type { Clock } from "../../common/clock.js";
import { type AlibabaCluster, alibabaProviderName } from "./alibaba-config.js";
import { type AlibabaCredentials, signedAcsHeaders } from "./alibaba-credentials.js";

/** The Container Service API of a region, e.g. https://cs.cn-hangzhou.aliyuncs.com. */
export function defaultCsEndpoint(region: string): string {
  return `https://cs.${region}.aliyuncs.com`;
}

/**
 * Discovers an ACK cluster's endpoint and CA with the Container Service API's
 * `DescribeClusterUserKubeconfig` (2015-12-15, `GET /k8s/{ClusterId}/user_config`,
 * the public endpoint), signed with ACS3. Only the kubeconfig's cluster entry is
 * kept: its user entry holds a certificate for the signing identity, which this
 * service never hands out.
 */
export class AckClusterDescriber implements ClusterDescriber<AlibabaCluster> {
  constructor(
    private readonly credentials: AlibabaCredentials,
    private readonly upstreamTimeoutMs: number,
    private readonly clock: Clock,
  ) {}

  async describeCluster(cluster: AlibabaCluster, signal: AbortSignal): Promise<ClusterAccess> {
    const call: UpstreamCall = {
      provider: alibabaProviderName,
      operation: "cs:DescribeClusterUserKubeconfig",
      metadata: { cluster_id: cluster.id },
    };
    const keys = await this.credentials.keysFor(cluster, signal);
    const base = (cluster.apiEndpoint ?? defaultCsEndpoint(cluster.region)).replace(/\/+$/, "");
    const url = new URL(`${base}/k8s/${encodeURIComponent(cluster.clusterId)}/user_config`);
    const query = { PrivateIpAddress: "false" };
    url.searchParams.set("PrivateIpAddress", "false");
    const headers = signedAcsHeaders(keys, {
      method: "GET",
      pathname: url.pathname,
      query,
      action: "DescribeClusterUserKubeconfig",
      version: "2015-12-15",
      host: url.host,
      now: new Date(this.clock.now()),
    });
    const body = (await fetchUpstreamJson(call, { url, headers, signal, timeoutMs: this.upstreamTimeoutMs })) as { config?: unknown };
    return kubeconfigClusterEntry(body?.config, call);
  }
}
