import { isServiceError } from "../../errors/service-error.js";
import { upstreamBadResponse, type UpstreamCall } from "../../errors/upstream-error.js";
import type { ClusterLister, ListedCluster } from "../cluster-lister.js";
import { credentialUserMetadata } from "../credential-entry.js";
import { matchesFilter, maxListingPageBytes, maxListingPages, mapBounded, namedBy, soleMatch, tooManyPages } from "../listing-parts.js";
import { fetchUpstreamJson } from "../upstream-fetch.js";
import { type ArmLocation, armBase, listedManagedCluster, managedClustersUrl, parseAzureScope } from "./arm-managed-clusters.js";
import { type AzureAccount, azureProviderName } from "./azure-config.js";
import type { AzureTokens } from "./azure-credentials.js";

/**
 * The most pages a lookup reads of each subscription's listing (in an account
 * without resource groups, where ARM has no get by name alone): a cluster past them
 * is registered by the next poll instead. Ten pages hold about a thousand clusters.
 */
export const maxLookupPagesPerSubscription = 10;
/** How many of a lookup's gets (one per subscription and resource group) are in flight at once. */
const lookupConcurrency = 8;

/** One page of an ARM list: its clusters, and the next page's URL while there is one. */
interface ArmPage {
  value?: unknown;
  nextLink?: unknown;
}

/**
 * Lists AKS clusters with ARM's managedClusters list, by subscription or by
 * resource group, following `nextLink` page after page, with an Entra ID token for
 * ARM from the same credential sources as the token driver (so `caFile` applies).
 * ARM has no tag filter on this list, so the account's tags are matched here.
 */
export class AksClusterLister implements ClusterLister<AzureAccount> {
  constructor(
    private readonly tokens: AzureTokens,
    private readonly upstreamTimeoutMs: number,
  ) {}

  async listScope(account: AzureAccount, scope: string, signal: AbortSignal): Promise<readonly ListedCluster[]> {
    const at = parseAzureScope(scope);
    const call = listCall(account, "arm:managedClusters.list", { scope });
    const clusters: ListedCluster[] = [];
    const complete = await this.eachPage(account, at, call, signal, maxListingPages, (page) => {
      clusters.push(...page.filter((cluster) => matchesFilter(cluster.labels, account.tags)));
    });
    if (!complete) throw tooManyPages(call);
    return clusters;
  }

  /**
   * With resource groups, one get of the name in each subscription and resource
   * group (ARM's names are case-insensitive); otherwise each subscription's listing,
   * at most {@link maxLookupPagesPerSubscription} pages of it, searched for the name
   * and location. Any failed request fails the lookup: "not found" needs every answer.
   */
  async lookup(account: AzureAccount, name: string, region: string, signal: AbortSignal): Promise<ListedCluster | undefined> {
    const wanted = (cluster: ListedCluster) => namedBy(cluster, name, region) && matchesFilter(cluster.labels, account.tags);
    const groups = account.resourceGroups;
    if (groups) {
      const places = account.subscriptions.flatMap((subscriptionId) => groups.map((resourceGroup) => ({ subscriptionId, resourceGroup })));
      const found = await mapBounded(places, lookupConcurrency, (at) => this.getCluster(account, at, name, signal));
      return soleMatch(found.filter((cluster): cluster is ListedCluster => cluster !== undefined && wanted(cluster)));
    }
    const found: ListedCluster[] = [];
    for (const subscriptionId of account.subscriptions) {
      const call = listCall(account, "arm:managedClusters.list", { scope: subscriptionId });
      await this.eachPage(account, { subscriptionId }, call, signal, maxLookupPagesPerSubscription, (page) => {
        found.push(...page.filter(wanted));
      });
    }
    return soleMatch(found);
  }

  /** One cluster by name in a resource group, or undefined when ARM answers 404. */
  private async getCluster(account: AzureAccount, at: ArmLocation, name: string, signal: AbortSignal): Promise<ListedCluster | undefined> {
    const call = listCall(account, "arm:managedClusters.get", { scope: `${at.subscriptionId}/${at.resourceGroup}` });
    const arm = armBase(account.apiEndpoint);
    try {
      return listedManagedCluster(await this.armGet(account, managedClustersUrl(arm, at, name), call, signal), at, call);
    } catch (err) {
      if (isServiceError(err) && err.reason === "UPSTREAM_NOT_FOUND") return undefined;
      throw err;
    }
  }

  /**
   * Reads the pages of the list of `at`, handing each page's clusters to `take`.
   * Resolves true when the list ended, false when `maxPages` were read and more
   * remained. A `nextLink` to another origin than the configured ARM endpoint is
   * refused (the bearer token never follows it), and so is one to a page already
   * read (a loop).
   */
  private async eachPage(
    account: AzureAccount,
    at: ArmLocation,
    call: UpstreamCall,
    signal: AbortSignal,
    maxPages: number,
    take: (page: ListedCluster[]) => void,
  ): Promise<boolean> {
    const arm = armBase(account.apiEndpoint);
    const followed = new Set<string>();
    let url: URL | undefined = managedClustersUrl(arm, at);
    for (let pages = 0; url; pages++) {
      if (pages === maxPages) return false;
      const page = (await this.armGet(account, url, call, signal)) as ArmPage | null;
      if (!Array.isArray(page?.value)) throw upstreamBadResponse(call, new Error("a page without its value list"));
      take(page.value.map((item) => listedManagedCluster(item, at, call)));
      url = nextPage(page.nextLink, arm, call);
      if (url && followed.has(url.href)) throw upstreamBadResponse(call, new Error("a nextLink to a page already read"));
      if (url) followed.add(url.href);
    }
    return true;
  }

  private async armGet(account: AzureAccount, url: URL, call: UpstreamCall, signal: AbortSignal): Promise<unknown> {
    const { token } = await this.tokens.tokenFor(account, `${armBase(account.apiEndpoint)}/.default`, signal);
    return fetchUpstreamJson(call, {
      url,
      headers: { authorization: `Bearer ${token}` },
      signal,
      timeoutMs: this.upstreamTimeoutMs,
      ca: await this.tokens.caFor(account),
      maxBytes: maxListingPageBytes,
    });
  }
}

/** The next page's URL, undefined at the end; one on another origin than `arm` fails the listing. */
function nextPage(nextLink: unknown, arm: string, call: UpstreamCall): URL | undefined {
  if (nextLink === undefined || nextLink === null || nextLink === "") return undefined;
  let url: URL;
  try {
    url = new URL(String(nextLink));
  } catch {
    throw upstreamBadResponse(call, new Error("a nextLink that is not a URL"));
  }
  if (url.origin !== new URL(arm).origin)
    throw upstreamBadResponse(call, new Error(`a nextLink to ${url.origin}, not the configured ARM endpoint; not followed`));
  return url;
}

function listCall(account: AzureAccount, operation: string, metadata: Record<string, string>): UpstreamCall {
  return { provider: azureProviderName, operation, metadata: { ...credentialUserMetadata(account), ...metadata } };
}
