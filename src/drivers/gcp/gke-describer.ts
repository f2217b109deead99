import { type GcpCluster, gcpProviderName } from "./gcp-config.js";
import { ServiceError } from "../../errors/service-error.js";
import { credentialEntryFor } from "../credential-entry.js";
import type { ClusterAccess, ClusterDescriber } from "../driver.js";
import { upstreamBadResponse, type UpstreamCall } from "../../errors/upstream-error.js";
import type { GcpCredentialSource } from "./gcp-credentials.js";
import { type GkeCluster, gkeClustersUrl, gkeGet } from "./gke-api.js";

/**
 * Discovers a GKE cluster's endpoint and CA with `projects.locations.clusters.get`,
 * authorized by the same google-auth-library client that mints its tokens.
 */
export class GkeClusterDescriber implements ClusterDescriber<GcpCluster> {
  constructor(private readonly sources: ReadonlyMap<string, GcpCredentialSource>) {}

  async describeCluster(cluster: GcpCluster, signal: AbortSignal): Promise<ClusterAccess> {
    const call: UpstreamCall = { provider: gcpProviderName, operation: "container:clusters.get", metadata: { cluster_id: cluster.id } };
    const url = `${gkeClustersUrl(cluster.apiEndpoint, cluster.project, cluster.region)}/${encodeURIComponent(cluster.name)}`;
    const described = await gkeGet<GkeCluster>(credentialEntryFor(this.sources, cluster), call, url, signal);
    if (typeof described !== "object" || described === null) throw upstreamBadResponse(call, new Error("the cluster is not a JSON object"));
    const { endpoint, masterAuth, status } = described;
    if (typeof endpoint === "string" && endpoint !== "" && typeof masterAuth?.clusterCaCertificate === "string") {
      return { server: `https://${endpoint}`, certificateAuthorityData: masterAuth.clusterCaCertificate };
    }
    if (typeof status === "string" && status !== "RUNNING") {
      throw new ServiceError({
        reason: "CLUSTER_NOT_READY",
        message: `GKE cluster ${cluster.name} is ${status}, so it has no endpoint yet`,
        metadata: { cluster_id: cluster.id, status },
      });
    }
    throw upstreamBadResponse(call, new Error("the cluster has no endpoint or CA"));
  }
}
