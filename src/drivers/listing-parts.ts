import { clusterBase } from "../config/schema-parts.js";
import type { ServiceError } from "../errors/service-error.js";
import { upstreamBadResponse, type UpstreamCall } from "../errors/upstream-error.js";

// What every cloud's lister does alike: the tag filter, the name rule of ids, the
// bound on pages, and the one shape of endpoint a listing may carry.

/**
 * The most pages one listing of one scope reads. A cloud that keeps handing out
 * next pages past this (a loop, or a scope far larger than the service is sized
 * for) fails the listing instead of holding a poll forever; 1,000 pages are 50,000
 * to 100,000 clusters on every cloud's page size.
 */
export const maxListingPages = 1000;

/**
 * The largest page of a listing read: a page carries each cluster's whole
 * description (a few KiB each on some clouds), so it may be larger than the
 * 1 MiB a single description is held to. One page at a time is read per listing.
 */
export const maxListingPageBytes = 8 * 1024 * 1024;

/**
 * True when every pair of an account's `tags` filter is among `labels`, value
 * for value: what the core checks again on the labels a lister returns.
 */
export function matchesFilter(labels: Readonly<Record<string, string>>, filter: Readonly<Record<string, string>>): boolean {
  return Object.entries(filter).every(([key, value]) => Object.hasOwn(labels, key) && labels[key] === value);
}

/**
 * A cloud name or region as an id spells it: lower-cased, "_" turned into "-", as
 * the default id template makes ids. A lookup compares names and regions this way,
 * so that the id a caller asks for finds the cluster whatever case the cloud uses.
 */
export function idSpelling(value: string): string {
  return value.toLowerCase().replace(/_/g, "-");
}

/** True when a cloud's `name` and `region` are what an id's name and region parts stand for. */
export function namedBy(cloud: { name: string; region: string }, name: string, region: string): boolean {
  return idSpelling(cloud.name) === idSpelling(name) && idSpelling(cloud.region) === idSpelling(region);
}

/**
 * `value` when it is an https URL a kubeconfig may name as a cluster's server, else
 * undefined: a listing's endpoint is used only when it is one, and the discovery
 * path (the cloud's kubeconfig API) fills in what the listing lacks.
 */
export function httpsEndpoint(value: unknown): string | undefined {
  if (typeof value !== "string" || !value.startsWith("https://")) return undefined;
  try {
    return new URL(value).protocol === "https:" ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The failure of a listing that did not end within {@link maxListingPages}: never a complete listing. */
export function tooManyPages(call: UpstreamCall): ServiceError {
  return upstreamBadResponse(call, new Error(`the listing did not end within ${maxListingPages} pages`));
}

/**
 * The one match among `found` for a lookup, or undefined when there is none or more
 * than one: two clusters that an id names alike are a collision the poll reports,
 * and neither is served under that id.
 */
export function soleMatch<T>(found: readonly T[]): T | undefined {
  return found.length === 1 ? found[0] : undefined;
}

/**
 * `work` applied to every item, at most `limit` at a time, in the items' order: a
 * lookup's requests go out together without a burst the cloud would throttle.
 * Rejects with the first failure once every request started has settled, so that
 * no request outlives the lookup that made it.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  const failures: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length && failures.length === 0) {
      const index = next++;
      try {
        results[index] = await work(items[index] as T);
      } catch (err) {
        failures.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failures.length > 0) throw failures[0];
  return results;
}

/** One page of a paged listing: its items, and the token or link of the next page, if any. */
export interface ListingPage<T> {
  readonly items: readonly T[];
  readonly next: string | undefined;
}

/**
 * Follows a paged listing to its last page and returns every item, or rejects: a
 * page that fails rejects the listing (`fetchPage`'s own error), and so does an API
 * that hands back a token it gave before (a loop, UPSTREAM_BAD_RESPONSE) or pages
 * past {@link maxListingPages}. A listing thus resolves only when complete.
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
  throw tooManyPages(call);
}

/**
 * A listed cluster's `endpoint` and `certificateAuthorityData` for its `clusters`
 * entry, when the cloud's answer carries both and both pass the cluster schema;
 * otherwise neither, so that the cluster is still registered and its endpoint and CA
 * come through discovery (a cluster still being created has neither yet).
 */
export function listedAccess(server: unknown, certificateAuthorityData: unknown): { endpoint?: string; certificateAuthorityData?: string } {
  const endpoint = clusterBase.endpoint.safeParse(httpsEndpoint(server));
  const ca = clusterBase.certificateAuthorityData.safeParse(certificateAuthorityData);
  return endpoint.success && ca.success && endpoint.data && ca.data ? { endpoint: endpoint.data, certificateAuthorityData: ca.data } : {};
}

/**
 * Tags or labels as a cloud's JSON has them, checked to be what its API promises: a
 * map of strings, or with `pair`, a list of objects naming a key and a value (such
 * as `{ Key, Value }`). Undefined when they are not; absent ones are none. Built as
 * own properties, so a key such as `__proto__` is a label like any other.
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
