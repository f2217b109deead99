import type { Clock } from "../../common/clock.js";
import { type NcpCredentialConfig, type NcpCluster, ncpProviderName } from "./ncp-config.js";
import type { ClusterAccess, ClusterDescriber } from "../driver.js";
import type { UpstreamCall } from "../../errors/upstream-error.js";
import { kubeconfigClusterEntry } from "../kubeconfig-cluster-entry.js";
import { fetchUpstreamJson } from "../upstream-fetch.js";
import { ncpKeysFor } from "./ncp-credentials.js";
import { ncpGatewayHeaders, ncpStage } from "./ncp-signature.js";

/** The NKS API gateway of NAVER Cloud's public regions (KR, SGN and JPN, told apart by path). */
export const defaultNksApiEndpoint = "https://nks.apigw.ntruss.com";

/**
 * Discovers an NKS cluster's endpoint and CA as ncp-iam-authenticator does: the NKS
 * kubeconfig API (signed with the API gateway's signature v2), keeping only its
 * cluster entry. Its user entry is never used, so no credential from it can leak
 * into a kubeconfig this service builds.
 */
export class NksClusterDescriber implements ClusterDescriber<NcpCluster> {
  constructor(
    private readonly credentials: ReadonlyMap<string, NcpCredentialConfig>,
    private readonly upstreamTimeoutMs: number,
    private readonly clock: Clock,
  ) {}

  async describeCluster(cluster: NcpCluster, signal: AbortSignal): Promise<ClusterAccess> {
    const call: UpstreamCall = { provider: ncpProviderName, operation: "nks:GetKubeconfig", metadata: { cluster_id: cluster.id } };
    const keys = await ncpKeysFor(this.credentials, cluster);
    const base = (cluster.apiEndpoint ?? defaultNksApiEndpoint).replace(/\/+$/, "");
    const url = new URL(`${base}/vnks/${ncpStage(cluster.region, "v2")}/clusters/${encodeURIComponent(cluster.uuid)}/kubeconfig`);
    const headers = ncpGatewayHeaders(keys, "GET", url.pathname + url.search, new Date(this.clock.now()));
    const body = (await fetchUpstreamJson(call, { url, headers, signal, timeoutMs: this.upstreamTimeoutMs })) as { kubeconfig?: unknown };
    return kubeconfigClusterEntry(body?.kubeconfig, call);
  }
}
