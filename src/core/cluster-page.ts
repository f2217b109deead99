import { clusterIdProblem } from "./cluster-id.js";
import type { RegisteredCluster } from "./registered-cluster.js";

/** ListClusters' page size when the request names none (AIP-158). */
export const defaultPageSize = 100;
/** The largest page ListClusters returns; larger requests are capped. */
export const maxPageSize = 1000;

const tokenPrefix = "v1:";

/** The page token that continues a listing after the cluster `lastId`: opaque to callers, never a secret. */
export function pageTokenAfter(lastId: string): string {
  return Buffer.from(tokenPrefix + lastId).toString("base64url");
}

/** The cluster id a page token continues after, or undefined when the token is not one this service issued. */
export function lastIdOfPageToken(token: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(token)) return undefined;
  const text = Buffer.from(token, "base64url").toString("utf8");
  if (!text.startsWith(tokenPrefix)) return undefined;
  const id = text.slice(tokenPrefix.length);
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
 * One page of `sorted` after `afterId`, keeping only the clusters `visible` allows:
 * at most `size` of them, and whether a further visible one exists. It reads no
 * more than the page and the one cluster after it, so paging through 10,000
 * clusters costs a binary search and a page each time.
 */
export function clusterPage(
  sorted: readonly RegisteredCluster[],
  afterId: string | undefined,
  size: number,
  visible: (cluster: RegisteredCluster) => boolean,
): { clusters: RegisteredCluster[]; more: boolean } {
  const clusters: RegisteredCluster[] = [];
  for (let i = afterId === undefined ? 0 : firstIndexAfter(sorted, afterId); i < sorted.length; i++) {
    const cluster = sorted[i];
    if (!cluster || !visible(cluster)) continue;
    if (clusters.length === size) return { clusters, more: true };
    clusters.push(cluster);
  }
  return { clusters, more: false };
}
