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
export function matchesTags(labels: Readonly<Record<string, string>>, tags: Readonly<Record<string, string>>): boolean {
  return Object.entries(tags).every(([key, value]) => Object.hasOwn(labels, key) && labels[key] === value);
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
