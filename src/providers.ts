import { alibabaProvider } from "./drivers/alibaba/alibaba-provider.js";
import { awsProvider } from "./drivers/aws/aws-provider.js";
import { azureProvider } from "./drivers/azure/azure-provider.js";
import { gcpProvider } from "./drivers/gcp/gcp-provider.js";
import { ncpProvider } from "./drivers/ncp/ncp-provider.js";

/**
 * The clouds this build serves: the one place a cloud is registered. The config
 * unions, the provider-name type and the registered-cluster type are all derived
 * from this list.
 */
export const providers = [awsProvider, gcpProvider, ncpProvider, azureProvider, alibabaProvider] as const;

/** One provider module of the list. */
export type KnownProvider = (typeof providers)[number];
/** A provider name this build knows, such as "aws". */
export type ProviderName = KnownProvider["name"];
/** The names, for messages. */
export const providerNames: readonly ProviderName[] = providers.map((p) => p.name);
