import { alibabaProvider } from "./drivers/alibaba/alibaba-provider.js";
import { awsProvider } from "./drivers/aws/aws-provider.js";
import { azureProvider } from "./drivers/azure/azure-provider.js";
import { gcpProvider } from "./drivers/gcp/gcp-provider.js";
import { ncpProvider } from "./drivers/ncp/ncp-provider.js";
import type { ClusterPlacement } from "./drivers/provider-module.js";

/**
 * The clouds this build serves: the one place a cloud is registered. The
 * composition root passes this list to the config (its schemas) and to the logger
 * (the secret shapes it scrubs); the provider-name type and the registered-cluster
 * type are derived from it.
 */
export const providers = [awsProvider, gcpProvider, ncpProvider, azureProvider, alibabaProvider] as const;

/** One provider module of the list. */
export type KnownProvider = (typeof providers)[number];
/** A provider name this build knows, such as the `provider` value of a config entry. */
export type ProviderName = KnownProvider["name"];

const byName: ReadonlyMap<string, KnownProvider> = new Map(providers.map((p) => [p.name, p]));

/**
 * Where `cluster` is in its cloud and what the cloud calls it, as its provider says:
 * what ListClusters shows as region and name.
 */
export function clusterPlacement(cluster: { readonly provider: string }): ClusterPlacement {
  const provider = byName.get(cluster.provider);
  if (!provider) throw new Error(`@private no provider ${JSON.stringify(cluster.provider)} for a registered cluster`);
  // Registered clusters were validated by their provider's schema, so the provider's own type is the cluster's.
  return provider.placement(cluster as never);
}
