import { upstreamBadResponse, type UpstreamCall } from "../../errors/upstream-error.js";
import type { ClusterLister, ListedCluster } from "../cluster-lister.js";
import { credentialUserMetadata } from "../credential-entry.js";
import { idSpelling, matchesFilter, maxListingPageBytes, maxListingPages, namedBy, soleMatch, tooManyPages } from "../listing-parts.js";
import { type AlibabaAccount, alibabaProviderName } from "./alibaba-config.js";
import { listedAckCluster } from "./ack-listed-cluster.js";
import type { ContainerServiceApi } from "./cs-api.js";

/** The `page_size` asked of DescribeClustersV1; the answer's `page_info` says what the API used. */
export const describeClustersPageSize = 100;
/** The most pages a lookup reads of the clusters the API's `name` filter returns; a cluster past them comes with the next poll. */
export const maxLookupPages = 3;

/**
 * Lists ACK clusters with the Container Service's `DescribeClustersV1` (2015-12-15,
 * ROA `GET /api/v1/clusters`, ACS3-signed like the describer), by `region_id`, page
 * after page (`page_size`, `page_number`) until `page_info.total_count` clusters
 * were read. The API has no tag filter, so the account's tags are matched on each
 * cluster's resource tags here. A listing whose pages do not add up (the total
 * changed, a page came back short or out of order, or a cluster appeared twice, as
 * when clusters are created or deleted while it pages) is rejected whole: a shifted
 * page boundary could otherwise hide a cluster that still exists.
 */
export class AckClusterLister implements ClusterLister<AlibabaAccount> {
  constructor(private readonly api: ContainerServiceApi) {}

  async listScope(account: AlibabaAccount, region: string, signal: AbortSignal): Promise<readonly ListedCluster[]> {
    const call = listCall(account, region);
    const clusters: ListedCluster[] = [];
    const complete = await this.eachPage(account, region, {}, call, signal, maxListingPages, (page) => {
      clusters.push(...page.filter((cluster) => matchesFilter(cluster.labels, account.tags)));
    });
    if (!complete) throw tooManyPages(call);
    return clusters;
  }

  /** The API's `name` filter in the region, at most {@link maxLookupPages} pages of it, searched for the exact name. */
  async lookup(account: AlibabaAccount, name: string, region: string, signal: AbortSignal): Promise<ListedCluster | undefined> {
    const scope = account.regions.find((listed) => idSpelling(listed) === idSpelling(region));
    if (scope === undefined) return undefined;
    const found: ListedCluster[] = [];
    await this.eachPage(account, scope, { name }, listCall(account, scope), signal, maxLookupPages, (page) => {
      found.push(...page.filter((cluster) => namedBy(cluster, name, region) && matchesFilter(cluster.labels, account.tags)));
    });
    return soleMatch(found);
  }

  /**
   * Reads the pages of the region's clusters (narrowed by `filter`), handing each
   * page's clusters to `take`. Resolves true when `total_count` clusters were read,
   * false when `maxPages` were read and more remained.
   */
  private async eachPage(
    account: AlibabaAccount,
    region: string,
    filter: Readonly<Record<string, string>>,
    call: UpstreamCall,
    signal: AbortSignal,
    maxPages: number,
    take: (page: ListedCluster[]) => void,
  ): Promise<boolean> {
    const seen = new Set<string>();
    let total: number | undefined;
    for (let number = 1; number <= maxPages; number++) {
      const query = { ...filter, region_id: region, page_size: String(describeClustersPageSize), page_number: String(number) };
      const request = { action: "DescribeClustersV1", pathname: "/api/v1/clusters", query };
      const page = await this.api.get(call, account, region, request, signal, maxListingPageBytes);
      const { clusters, pageTotal } = pageOf(page, number, call);
      if (total !== undefined && pageTotal !== total) throw malformed(call, "the total changed between pages");
      total = pageTotal;
      const listed = clusters.map((item) => listedAckCluster(item, region, call));
      for (const { clusterId } of listed) {
        if (seen.has(clusterId)) throw malformed(call, "a cluster appeared on two pages");
        seen.add(clusterId);
      }
      take(listed.flatMap((cluster) => (cluster.deleted ? [] : [cluster.listed])));
      if (seen.size >= total) return true;
      if (clusters.length === 0) throw malformed(call, "a page came back empty before the total was read");
    }
    return false;
  }
}

/** The clusters and `page_info.total_count` of page `number`, which must say it is that page. */
function pageOf(page: unknown, number: number, call: UpstreamCall): { clusters: unknown[]; pageTotal: number } {
  const body = page as { clusters?: unknown; page_info?: { page_number?: unknown; total_count?: unknown } } | null;
  const total = body?.page_info?.total_count;
  if (!Array.isArray(body?.clusters) || typeof total !== "number" || !Number.isSafeInteger(total) || total < 0)
    throw malformed(call, "a page without its clusters or page_info");
  if (body.page_info?.page_number !== undefined && Number(body.page_info.page_number) !== number)
    throw malformed(call, `page ${number} answered as page ${String(body.page_info.page_number)}`);
  return { clusters: body.clusters, pageTotal: total };
}

function malformed(call: UpstreamCall, what: string) {
  return upstreamBadResponse(call, new Error(what));
}

function listCall(account: AlibabaAccount, region: string): UpstreamCall {
  return {
    provider: alibabaProviderName,
    operation: "cs:DescribeClustersV1",
    metadata: { ...credentialUserMetadata(account), scope: region },
  };
}
