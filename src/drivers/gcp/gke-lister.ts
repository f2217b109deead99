import type { ClusterLister, ListedCluster } from "../cluster-lister.js";
import { credentialEntryFor } from "../credential-entry.js";
import { labelsOf, listedAccess, matchesFilter } from "../listing-parts.js";
import { isServiceError } from "../../errors/service-error.js";
import { isUpstreamVerdict, upstreamBadResponse, upstreamPartialListing, type UpstreamCall } from "../../errors/upstream-error.js";
import { allLocations, type GcpAccount, gcpClusterSchema, gcpProviderName, gkeScope } from "./gcp-config.js";
import type { GcpCredentialSource } from "./gcp-credentials.js";
import { type GkeCluster, gkeClustersUrl, gkeGet } from "./gke-api.js";

/**
 * The largest `clusters.list` answer read. GKE's list has no pages, and a cluster's
 * resource is a few KiB (its CA, node pools, addons): this holds thousands, more
 * than a project's cluster quota, and no more.
 */
export const maxGkeListingBytes = 32 * 1024 * 1024;
/** The most zones named in an error about a partial listing. */
const namedZones = 5;

/**
 * Lists the GKE clusters of a Google Cloud account, one project and location per
 * scope, with `projects.locations.clusters.list` authorized by the account's
 * credentials (the token driver's google-auth-library client, with its cached
 * token). A poll costs one request per project and location, whatever the number of
 * clusters, since the list has no pages; endpoint, CA and labels come with it, so
 * label changes are seen at the next poll. GKE's list filters nothing, so the
 * account's `tags` are matched against each cluster's `resourceLabels` here.
 */
export class GkeClusterLister implements ClusterLister<GcpAccount> {
  constructor(private readonly sources: ReadonlyMap<string, GcpCredentialSource>) {}

  async listScope(account: GcpAccount, scope: string, signal: AbortSignal): Promise<readonly ListedCluster[]> {
    const [project, location] = splitScope(scope);
    const call = callOf(account, scope, "container:clusters.list");
    const url = gkeClustersUrl(account.apiEndpoint, project, location);
    const answer = await gkeGet<{ clusters?: unknown; missingZones?: unknown }>(
      this.source(account),
      call,
      url,
      signal,
      maxGkeListingBytes,
    );
    if (typeof answer !== "object" || answer === null) throw upstreamBadResponse(call, new Error("the listing is not a JSON object"));
    // Google leaves out empty lists: no `clusters` is none, no `missingZones` is a complete answer.
    const { clusters = [], missingZones = [] } = answer;
    if (!Array.isArray(clusters) || !Array.isArray(missingZones))
      throw upstreamBadResponse(call, new Error("clusters or missingZones is not a list"));
    if (missingZones.length > 0) {
      const zones = missingZones.slice(0, namedZones).map(String).join(", ");
      throw upstreamPartialListing(call, `zones ${zones}${missingZones.length > namedZones ? ", …" : ""}`);
    }
    return clusters.map((cluster: GkeCluster) => listed(call, project, cluster)).filter((c) => matchesFilter(c.labels, account.tags));
  }

  /**
   * `clusters.get` in each project of the account, in order, until one has the
   * cluster and matches the filter: at most one request per project. The location
   * must be one the account lists. A project that fails does not hide a later
   * project's cluster, but when no project had it, the first failure rejects the
   * lookup: it is never "no such cluster" unless every project said so.
   */
  async lookup(account: GcpAccount, name: string, region: string, signal: AbortSignal): Promise<ListedCluster | undefined> {
    const listedHere = account.locations.includes(allLocations) || account.locations.includes(region);
    if (!listedHere || !gcpClusterSchema.shape.name.safeParse(name).success) return undefined;
    let failure: unknown;
    for (const project of account.projects) {
      const call = callOf(account, gkeScope(project, region), "container:clusters.get");
      const url = `${gkeClustersUrl(account.apiEndpoint, project, region)}/${encodeURIComponent(name)}`;
      try {
        const found = listed(call, project, await gkeGet<GkeCluster>(this.source(account), call, url, signal));
        if (found.name === name && found.region === region && matchesFilter(found.labels, account.tags)) return found;
      } catch (err) {
        // What the project said of itself, unlike a bad credential or the caller's end, which no other project changes.
        const ofProject = isServiceError(err) && (err.code === "Unavailable" || isUpstreamVerdict(err));
        if (signal.aborted || !ofProject) throw err;
        if (err.reason !== "UPSTREAM_NOT_FOUND") failure ??= err;
      }
    }
    if (failure) throw failure;
    return undefined;
  }

  private source(account: GcpAccount): GcpCredentialSource {
    return credentialEntryFor(this.sources, account, "account");
  }
}

function splitScope(scope: string): [project: string, location: string] {
  const slash = scope.indexOf("/");
  if (slash < 0) throw new Error(`@private a gcp scope is project/location, not ${JSON.stringify(scope)}`);
  return [scope.slice(0, slash), scope.slice(slash + 1)];
}

function callOf(account: GcpAccount, scope: string, operation: string): UpstreamCall {
  return { provider: gcpProviderName, operation, metadata: { account_id: account.id, scope } };
}

/** One cluster of a GKE answer, checked to be what the API promises. */
function listed(call: UpstreamCall, project: string, cluster: GkeCluster): ListedCluster {
  const { name, location, endpoint, masterAuth } = cluster ?? {};
  const labels = labelsOf(cluster?.resourceLabels);
  if (typeof name !== "string" || typeof location !== "string" || !labels) {
    throw upstreamBadResponse(call, new Error("a cluster without a name, a location or string labels"));
  }
  const access =
    typeof endpoint === "string" && endpoint !== "" ? listedAccess(`https://${endpoint}`, masterAuth?.clusterCaCertificate) : {};
  return { name, region: location, labels, entry: { project, region: location, name, ...access } };
}
