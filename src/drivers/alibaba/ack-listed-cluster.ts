import { upstreamBadResponse, type UpstreamCall } from "../../errors/upstream-error.js";
import type { ListedCluster } from "../cluster-lister.js";
import { httpsEndpoint, labelsOf } from "../listing-parts.js";

/** A cluster of a DescribeClustersV1 answer: what the core registers, and what paging needs to know of it. */
export interface AckListing {
  /** The cluster id, which a listing's pages must not repeat. */
  readonly clusterId: string;
  /** True for a cluster in state `deleted`: the API may still return it, but it is gone. */
  readonly deleted: boolean;
  readonly listed: ListedCluster;
}

/**
 * One cluster of a DescribeClustersV1 page: `cluster_id`, `name` and `region_id`,
 * its resource tags (`[{ key, value }]`) as labels, and the public API server of
 * `master_url` (a JSON string, `api_server_endpoint`) as the endpoint when it is
 * https. A cluster without its id or name, with tags that are not `{ key, value }`
 * strings, or of another region than the one listed, makes the page malformed.
 */
export function listedAckCluster(item: unknown, region: string, call: UpstreamCall): AckListing {
  const cluster = item as {
    cluster_id?: unknown;
    name?: unknown;
    region_id?: unknown;
    state?: unknown;
    tags?: unknown;
    master_url?: unknown;
  } | null;
  const { cluster_id: clusterId, name } = cluster ?? {};
  const labels = labelsOf(cluster?.tags, { key: "key", value: "value" });
  if (typeof clusterId !== "string" || typeof name !== "string" || !labels)
    throw upstreamBadResponse(call, new Error("a cluster without its cluster_id or name, or with tags that are not strings"));
  if (cluster?.region_id !== undefined && cluster.region_id !== region)
    throw upstreamBadResponse(call, new Error(`a cluster of region ${String(cluster.region_id)} in the listing of ${region}`));
  const endpoint = httpsEndpoint(apiServerEndpoint(cluster?.master_url));
  return {
    clusterId,
    deleted: cluster?.state === "deleted",
    listed: { entry: { region, clusterId, name, ...(endpoint ? { endpoint } : {}) }, name, region, labels },
  };
}

/** `api_server_endpoint` of `master_url`, which the API writes as a JSON document in a string. */
function apiServerEndpoint(masterUrl: unknown): unknown {
  if (typeof masterUrl !== "string" || masterUrl === "") return undefined;
  try {
    return (JSON.parse(masterUrl) as { api_server_endpoint?: unknown } | null)?.api_server_endpoint;
  } catch {
    return undefined;
  }
}
