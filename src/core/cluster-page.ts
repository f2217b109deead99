import { hash } from "node:crypto";
import { clusterIdProblem } from "./cluster-id.js";
import type { RegisteredCluster } from "./registered-cluster.js";

/** ListClusters' page size when the request names none (AIP-158). */
export const defaultPageSize = 100;
/** The largest page ListClusters returns; larger requests are capped. */
export const maxPageSize = 1000;

/** A token of a listing without a filter: the id it continues after. */
const tokenPrefix = "v1:";
/** A token of a filtered listing: a digest of the filter, then the id. */
const filteredPrefix = "v2:";

/** What a token for `canonicalFilter` starts with: for a filter, twelve hex digits of its SHA-256, enough to tell filters apart. */
function prefixFor(canonicalFilter: string): string {
  return canonicalFilter === "" ? tokenPrefix : `${filteredPrefix}${hash("sha256", canonicalFilter).slice(0, 12)}:`;
}

/**
 * The page token that continues a listing after the cluster `lastId`, for the
 * filter written canonically as `canonicalFilter` ("" for none): opaque to callers,
 * never a secret, and valid only with the same filter.
 */
export function pageTokenAfter(lastId: string, canonicalFilter = ""): string {
  return Buffer.from(prefixFor(canonicalFilter) + lastId).toString("base64url");
}

/**
 * The cluster id a page token continues after, or undefined when the token is not
 * one this service issued for a listing with the filter `canonicalFilter`.
 */
export function lastIdOfPageToken(token: string, canonicalFilter = ""): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(token)) return undefined;
  const text = Buffer.from(token, "base64url").toString("utf8");
  const prefix = prefixFor(canonicalFilter);
  if (!text.startsWith(prefix)) return undefined;
  const id = text.slice(prefix.length);
  return clusterIdProblem(id) === undefined ? id : undefined;
}

/** The index of the first cluster in `sorted` (sorted by id) whose id comes after `id`. */
function firstIndexAfter(sorted: readonly RegisteredCluster[], id: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((sorted[mid]?.id ?? "") <= id) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * The most clusters one page may pass over because `visible` refuses them. A caller
 * whose grants or filter select few clusters of many would otherwise make every call
 * read the whole registry (10,000 policy checks and filter matches, on the event
 * loop); past this, the page ends short, with a token that continues after the last
 * cluster read, as AIP-158 allows ("a page may hold fewer results than page_size").
 */
export const maxSkippedPerPage = 2_000;

/**
 * One page of `sorted` after `afterId`, keeping only the clusters `visible` allows:
 * at most `size` of them, and, when the listing goes on, the id the next page
 * continues after. It reads from the page's first cluster (a binary search finds it)
 * up to the one after the page, skipping those `visible` refuses, at most
 * {@link maxSkippedPerPage} of them, so paging through 10,000 clusters costs a binary
 * search and a page each time when most are visible, and a bounded read when few are.
 */
export function clusterPage(
  sorted: readonly RegisteredCluster[],
  afterId: string | undefined,
  size: number,
  visible: (cluster: RegisteredCluster) => boolean,
): { clusters: RegisteredCluster[]; continueAfter: string | undefined } {
  const clusters: RegisteredCluster[] = [];
  let skipped = 0;
  for (let i = afterId === undefined ? 0 : firstIndexAfter(sorted, afterId); i < sorted.length; i++) {
    const cluster = sorted[i];
    if (!cluster) continue;
    if (!visible(cluster)) {
      if (++skipped === maxSkippedPerPage && i + 1 < sorted.length) return { clusters, continueAfter: cluster.id };
      continue;
    }
    if (clusters.length === size) return { clusters, continueAfter: clusters.at(-1)?.id };
    clusters.push(cluster);
  }
  return { clusters, continueAfter: undefined };
}
