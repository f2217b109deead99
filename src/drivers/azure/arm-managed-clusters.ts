import { upstreamBadResponse, type UpstreamCall } from "../../errors/upstream-error.js";
import type { ListedCluster } from "../cluster-lister.js";
import { labelsOf } from "../listing-parts.js";
import { type AzureAccount, defaultArmEndpoint } from "./azure-config.js";

// The ARM resource Microsoft.ContainerService/managedClusters, as the describer and
// the lister address it and read it.

/** The managedClusters API version of every ARM call (describe, list, get). */
export const managedClustersApiVersion = "2024-08-01";

/** Where an AKS cluster, or a set of them, is in ARM: a subscription, and a resource group within it. */
export interface ArmLocation {
  readonly subscriptionId: string;
  readonly resourceGroup?: string | undefined;
}

/** The ARM base URL an entry calls, without a trailing slash: its `apiEndpoint`, or the public cloud's. */
export function armBase(apiEndpoint: string | undefined): string {
  return (apiEndpoint ?? defaultArmEndpoint).replace(/\/+$/, "");
}

/**
 * The URL of the managed clusters of a subscription or resource group, or of one
 * cluster by `name`, with the API version; `suffix` is an action such as
 * `listClusterUserCredential`. Every segment is percent-encoded.
 */
export function managedClustersUrl(base: string, at: ArmLocation, name?: string, suffix?: string): URL {
  const segments = [
    "subscriptions",
    at.subscriptionId,
    ...(at.resourceGroup === undefined ? [] : ["resourceGroups", at.resourceGroup]),
    "providers",
    "Microsoft.ContainerService",
    "managedClusters",
    ...(name === undefined ? [] : [name]),
    ...(suffix === undefined ? [] : [suffix]),
  ];
  const url = new URL(`${base}/${segments.map(encodeURIComponent).join("/")}`);
  url.searchParams.set("api-version", managedClustersApiVersion);
  return url;
}

/**
 * The scopes of an account: each subscription, or each subscription and resource
 * group, written `<subscription>` or `<subscription>/<resource group>` (a resource
 * group name has no "/").
 */
export function azureScopes(account: AzureAccount): string[] {
  const groups = account.resourceGroups;
  return account.subscriptions.flatMap((subscription) => (groups ? groups.map((group) => `${subscription}/${group}`) : [subscription]));
}

/** The subscription and resource group of a scope made by {@link azureScopes}. */
export function parseAzureScope(scope: string): ArmLocation {
  const slash = scope.indexOf("/");
  return slash < 0 ? { subscriptionId: scope } : { subscriptionId: scope.slice(0, slash), resourceGroup: scope.slice(slash + 1) };
}

/** `/subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}`, in any case (ARM lower-cases some). */
const managedClusterId =
  /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.containerservice\/managedclusters\/([^/]+)$/i;

/** An ARM host name, as `properties.fqdn` holds it. */
const hostName = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

/**
 * One managed cluster of a list or get answer, as the core registers it: the
 * subscription and resource group from its resource id, its name, its location as
 * the region, its tags as labels, and `https://<fqdn>:443` as the endpoint when it
 * has a public FQDN (the server AKS's own kubeconfigs name; a private cluster's comes
 * through the discovery path). An entry without its id, name or location, with tags
 * that are not strings, or whose id is not in `within`'s subscription, makes the
 * whole answer malformed.
 */
export function listedManagedCluster(item: unknown, within: ArmLocation, call: UpstreamCall): ListedCluster {
  const cluster = item as { id?: unknown; name?: unknown; location?: unknown; tags?: unknown; properties?: { fqdn?: unknown } } | null;
  const match = typeof cluster?.id === "string" ? managedClusterId.exec(cluster.id) : null;
  const [, subscriptionId = "", resourceGroup = "", idName = ""] = match ?? [];
  const { name, location } = cluster ?? {};
  const labels = labelsOf(cluster?.tags);
  if (!match || typeof name !== "string" || typeof location !== "string" || decodeURIComponent(idName) !== name || !labels)
    throw upstreamBadResponse(call, new Error("a managed cluster without its resource id, name, location or string tags"));
  if (subscriptionId.toLowerCase() !== within.subscriptionId.toLowerCase())
    throw upstreamBadResponse(call, new Error("a managed cluster of another subscription"));
  const fqdn = cluster?.properties?.fqdn;
  const endpoint = typeof fqdn === "string" && hostName.test(fqdn) ? { endpoint: `https://${fqdn}:443` } : {};
  return {
    entry: { subscriptionId: within.subscriptionId, resourceGroup: decodeURIComponent(resourceGroup), name, region: location, ...endpoint },
    name,
    region: location,
    labels,
  };
}
