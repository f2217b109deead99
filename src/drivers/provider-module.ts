import type { z } from "zod";
import type { accountBase, ClusterBase, clusterBase } from "../config/schema-parts.js";
import type { SecretShapes } from "../logging/secret-scrubber.js";
import type { ProviderDiscovery } from "./cluster-lister.js";
import type { ProviderDrivers, ProviderOptions } from "./driver.js";

/**
 * Where a cluster is in its cloud and what the cloud calls it, as ListClusters
 * shows them: the region or location, and the cluster's name in its cloud. Empty
 * where the cloud has no such thing, or the entry did not say.
 */
export interface ClusterPlacement {
  readonly region: string;
  readonly name: string;
}

/**
 * Everything the service knows of one cloud, exported by that cloud's folder: its
 * name, the config schemas of its `credentials` and `clusters` entries, the shapes
 * of its secrets, where its clusters are, and a factory for its drivers. The list in
 * `src/providers.ts` names the modules; the config, the logger and the provider
 * types are built from that list, so a new cloud is one folder, one list entry and
 * one conformance harness.
 */
export interface ProviderModule<
  Name extends string,
  CredentialSchema extends z.ZodObject<{ provider: z.ZodLiteral<Name> }>,
  ClusterSchema extends z.ZodObject<typeof clusterBase & { provider: z.ZodLiteral<Name> }>,
  AccountSchema extends z.ZodObject<typeof accountBase & { provider: z.ZodLiteral<Name> }> = never,
> {
  /** The `provider` value of its config entries, the folder's name constant. */
  readonly name: Name;
  /** A `credentials` entry of this provider. */
  readonly credentialSchema: CredentialSchema;
  /** A `clusters` entry of this provider: `clusterBase` plus the keys that find a cluster in this cloud. */
  readonly clusterSchema: ClusterSchema;
  /**
   * What this cloud's tokens and keys look like, and the field names its secrets go
   * by: the logger scrubs them from every line. Every token the drivers mint must
   * match one of the patterns (the conformance suite checks).
   */
  readonly secretShapes: SecretShapes;
  /**
   * The accounts of this cloud whose clusters can be discovered: the schema of its
   * `accounts` entries and their scopes. The drivers then include a `lister`.
   * Absent: the cloud's clusters are registered in `clusters` only.
   */
  readonly discovery?: ProviderDiscovery<AccountSchema>;
  /** What ListClusters shows of a cluster of this provider as its region and name. */
  placement(cluster: z.output<ClusterSchema>): ClusterPlacement;
  /** Builds the drivers from this provider's `credentials` entries, by name. */
  create(
    credentials: Readonly<Record<string, z.output<CredentialSchema>>>,
    options: ProviderOptions,
  ): ProviderDrivers<z.output<ClusterSchema> & ClusterBase>;
  /**
   * Builds the drivers from the entries of all `credentials` that belong to this
   * provider, or returns undefined when none do (see {@link defineProvider}).
   */
  driversFrom(
    credentials: Readonly<Record<string, { readonly provider: string }>>,
    options: ProviderOptions,
  ): ProviderDrivers<never> | undefined;
}

/** Declares a provider module, keeping its precise types for the derived unions. */
export function defineProvider<
  Name extends string,
  CredentialSchema extends z.ZodObject<{ provider: z.ZodLiteral<Name> }>,
  ClusterSchema extends z.ZodObject<typeof clusterBase & { provider: z.ZodLiteral<Name> }>,
  AccountSchema extends z.ZodObject<typeof accountBase & { provider: z.ZodLiteral<Name> }> = never,
>(
  module: Omit<ProviderModule<Name, CredentialSchema, ClusterSchema, AccountSchema>, "driversFrom">,
): ProviderModule<Name, CredentialSchema, ClusterSchema, AccountSchema> {
  // Validated config entries carry their provider's name, and the config's union picked this provider's schema for them.
  const isOwn = (entry: { readonly provider: string }): entry is z.output<CredentialSchema> => entry.provider === module.name;
  return {
    ...module,
    driversFrom(credentials, options) {
      const own: Record<string, z.output<CredentialSchema>> = {};
      for (const [name, entry] of Object.entries(credentials)) if (isOwn(entry)) own[name] = entry;
      return Object.keys(own).length > 0 ? module.create(own, options) : undefined;
    },
  };
}
