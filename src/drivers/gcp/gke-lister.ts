import type { ClusterLister, ListedCluster } from "../cluster-lister.js";
import { credentialEntryFor, credentialUserMetadata } from "../credential-entry.js";
import { labelsOf, listedAccess, mapBounded, matchesFilter, namedBy, soleMatch } from "../listing-parts.js";
import { isServiceError } from "../../errors/service-error.js";
import { upstreamBadResponse, upstreamPartialListing, type UpstreamCall } from "../../errors/upstream-error.js";
import { allLocations, type GcpAccount, gcpClusterSchema, gcpProviderName, gkeScope } from "./gcp-config.js";
import type { GcpCredentialSource } from "./gcp-credentials.js";
import { type GkeCluster, gkeClustersUrl, gkeGet } from "./gke-api.js";

/**
 * The largest `clusters.list` answer read. GKE's list has no pages, and a cluster's
 * resource is a few KiB (its CA, node pools, addons): this holds thousands, more
 * than a project's cluster quota, and no more.
 */
export const maxGkeListingBytes = 32 * 1024 * 1024;
/** How many of a lookup's gets (one per project) are in flight at once. */
const lookupConcurrency = 8;
/** The most zones named in an error about a partial listing. */
const namedZones = 5;

/**
 * Lists the GKE clusters of a Google Cloud account, one project and location per
 * scope, with `projects.locations.clusters.list` authorized by the account's
 * credentials (the token driver's google-auth-library client, with its cached
 * token). A poll costs one request per project and location, whatever the number of
 * clusters, since the list has no pages; a lookup, one per project; endpoint, CA and labels come with it, so
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
   * `clusters.get` of the name and location in every project of the account, at
   * most {@link lookupConcurrency} at a time: one request per project. The location
   * must be one the account lists. Any failed request fails the lookup ("not found"
   * needs every project's answer), and a name that two projects hold is a collision,
   * which the poll reports and no lookup serves: undefined.
   */
  async lookup(account: GcpAccount, name: string, region: string, signal: AbortSignal): Promise<ListedCluster | undefined> {
    const listedHere = account.locations.includes(allLocations) || account.locations.includes(region);
    if (!listedHere || !gcpClusterSchema.shape.name.safeParse(name).success) return undefined;
    const found = await mapBounded(account.projects, lookupConcurrency, async (project) => {
      const call = callOf(account, gkeScope(project, region), "container:clusters.get");
      const url = `${gkeClustersUrl(account.apiEndpoint, project, region)}/${encodeURIComponent(name)}`;
      try {
        return listed(call, project, await gkeGet<GkeCluster>(this.source(account), call, url, signal));
      } catch (err) {
        if (isServiceError(err) && err.reason === "UPSTREAM_NOT_FOUND") return undefined;
        throw err;
      }
    });
    return soleMatch(
      found.filter((c): c is ListedCluster => c !== undefined && namedBy(c, name, region) && matchesFilter(c.labels, account.tags)),
    );
  }

  private source(account: GcpAccount): GcpCredentialSource {
    return credentialEntryFor(this.sources, account);
  }
}

function splitScope(scope: string): [project: string, location: string] {
  const slash = scope.indexOf("/");
  if (slash < 0) throw new Error(`@private a gcp scope is project/location, not ${JSON.stringify(scope)}`);
  return [scope.slice(0, slash), scope.slice(slash + 1)];
}

function callOf(account: GcpAccount, scope: string, operation: string): UpstreamCall {
  return { provider: gcpProviderName, operation, metadata: { ...credentialUserMetadata(account), scope } };
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
