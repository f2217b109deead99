import { clusterBase } from "../config/schema-parts.js";
import { upstreamBadResponse, type UpstreamCall } from "../errors/upstream-error.js";

/**
 * The most pages one listing of a scope follows. Far beyond any cloud's cluster
 * quota per region or project (100 pages of 100 are 10,000 clusters), it only stops
 * an API that pages forever from keeping a listing, and its memory, growing.
 */
export const maxListingPages = 1_000;

/** One page of a paged listing: its items, and the token or link of the next page, if any. */
export interface ListingPage<T> {
  readonly items: readonly T[];
  readonly next: string | undefined;
}

/**
 * Follows a paged listing to its last page and returns every item, or rejects: a
 * page that fails rejects the listing (`fetchPage`'s own error), and so does an API
 * that pages past {@link maxListingPages} or hands back a token it gave before (a
 * loop), with UPSTREAM_BAD_RESPONSE. A listing thus resolves only when complete.
 */
export async function followPages<T>(call: UpstreamCall, fetchPage: (next: string | undefined) => Promise<ListingPage<T>>): Promise<T[]> {
  const items: T[] = [];
  const seen = new Set<string>();
  let next: string | undefined;
  for (let page = 1; page <= maxListingPages; page++) {
    const answer = await fetchPage(next);
    items.push(...answer.items);
    if (!answer.next) return items;
    if (seen.has(answer.next)) throw upstreamBadResponse(call, new Error(`page ${page} names a page that was already read`));
    seen.add(answer.next);
    next = answer.next;
  }
  throw upstreamBadResponse(call, new Error(`the listing goes on past ${maxListingPages} pages`));
}

/** True when `labels` carry every pair of an account's `tags` filter (an empty filter matches everything). */
export function matchesFilter(labels: Readonly<Record<string, string>>, filter: Readonly<Record<string, string>>): boolean {
  return Object.entries(filter).every(([key, value]) => Object.hasOwn(labels, key) && labels[key] === value);
}

/**
 * A listed cluster's `endpoint` and `certificateAuthorityData` for its `clusters`
 * entry, when the cloud's answer carries both and both pass the cluster schema;
 * otherwise neither, so that the cluster is still registered and its endpoint and CA
 * come through discovery (a cluster still being created has neither yet).
 */
export function listedAccess(server: unknown, certificateAuthorityData: unknown): { endpoint?: string; certificateAuthorityData?: string } {
  const endpoint = clusterBase.endpoint.safeParse(server);
  const ca = clusterBase.certificateAuthorityData.safeParse(certificateAuthorityData);
  return endpoint.success && ca.success && endpoint.data && ca.data ? { endpoint: endpoint.data, certificateAuthorityData: ca.data } : {};
}

/**
 * Tags or labels as a cloud's JSON has them, checked to be what its API promises: a
 * map of strings, or with `pair`, a list of objects naming a key and a value (such
 * as `{ Key, Value }`). Undefined when they are not; absent ones are none. Built as own
 * properties, so a key such as `__proto__` is a label like any other.
 */
export function labelsOf(value: unknown, pair?: { readonly key: string; readonly value: string }): Record<string, string> | undefined {
  if (value === undefined || value === null) return {};
  let entries: [unknown, unknown][];
  if (pair) {
    if (!Array.isArray(value)) return undefined;
    entries = value.map((item: Record<string, unknown> | null) => [item?.[pair.key], item?.[pair.value]]);
  } else {
    if (typeof value !== "object" || Array.isArray(value)) return undefined;
    entries = Object.entries(value);
  }
  const strings = entries.every((entry): entry is [string, string] => typeof entry[0] === "string" && typeof entry[1] === "string");
  return strings ? Object.fromEntries(entries) : undefined;
}
