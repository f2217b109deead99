import { type GcpCluster, gcpProviderName } from "./gcp-config.js";
import { ServiceError } from "../../errors/service-error.js";
import { credentialEntryFor } from "../credential-entry.js";
import type { ClusterAccess, ClusterDescriber } from "../driver.js";
import { raceAbort } from "../../common/deadline.js";
import { abandonedError, upstreamBadResponse, type UpstreamCall } from "../../errors/upstream-error.js";
import type { GcpCredentialSource } from "./gcp-credentials.js";
import { gcpServiceError } from "./gcp-errors.js";

/** The GKE API, where `projects.locations.clusters.get` lives. */
export const defaultGkeApiEndpoint = "https://container.googleapis.com";

interface GkeCluster {
  endpoint?: unknown;
  status?: unknown;
  masterAuth?: { clusterCaCertificate?: unknown };
}

/**
 * Discovers a GKE cluster's endpoint and CA with `projects.locations.clusters.get`,
 * authorized by the same google-auth-library client that mints its tokens.
 */
export class GkeClusterDescriber implements ClusterDescriber<GcpCluster> {
  constructor(private readonly sources: ReadonlyMap<string, GcpCredentialSource>) {}

  async describeCluster(cluster: GcpCluster, signal: AbortSignal): Promise<ClusterAccess> {
    const call: UpstreamCall = { provider: gcpProviderName, operation: "container:clusters.get", metadata: { cluster_id: cluster.id } };
    const base = (cluster.apiEndpoint ?? defaultGkeApiEndpoint).replace(/\/+$/, "");
    const url = `${base}/v1/projects/${encodeURIComponent(cluster.project)}/locations/${encodeURIComponent(cluster.region)}/clusters/${encodeURIComponent(cluster.name)}`;
    let described: GkeCluster;
    try {
      const source = credentialEntryFor(this.sources, cluster);
      // Building the client can itself reach Google (Application Default Credentials), so it runs within the attempt too.
      const request = source.withAttempt(signal, async () =>
        (await source.client()).request<GkeCluster>({ url, method: "GET", signal, responseType: "json" }),
      );
      const response = await raceAbort(request, signal, () => abandonedError(call, signal));
      described = response.data;
    } catch (err) {
      throw gcpServiceError(err, call, signal);
    }
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
