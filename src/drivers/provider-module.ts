import type { z } from "zod";
import type { ClusterBase } from "../config/schema-parts.js";
import type { ProviderDrivers, ProviderOptions } from "./driver.js";

/**
 * Everything the service knows of one cloud, exported by that cloud's folder: its
 * name, the config schemas of its `credentials` and `clusters` entries, and a
 * factory for its drivers. The list in `src/providers.ts` names the modules, and
 * the config unions and provider types are derived from it, so a new cloud is one
 * folder, one list entry and one conformance harness.
 */
export interface ProviderModule<
  Name extends string,
  CredentialSchema extends z.ZodObject<{ provider: z.ZodLiteral<Name> }>,
  ClusterSchema extends z.ZodObject<{ provider: z.ZodLiteral<Name> }>,
> {
  /** The `provider` value of its config entries, such as "aws". */
  readonly name: Name;
  /** A `credentials` entry of this provider. */
  readonly credentialSchema: CredentialSchema;
  /** A `clusters` entry of this provider: `clusterBase` plus its own keys. */
  readonly clusterSchema: ClusterSchema;
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
  ClusterSchema extends z.ZodObject<{ provider: z.ZodLiteral<Name> }>,
>(
  module: Omit<ProviderModule<Name, CredentialSchema, ClusterSchema>, "driversFrom">,
): ProviderModule<Name, CredentialSchema, ClusterSchema> {
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

/** The drivers a lazy provider's implementation module builds. */
export type LoadedDrivers<C extends ClusterBase> = Required<Pick<ProviderDrivers<C>, "token" | "describer">> &
  Pick<ProviderDrivers<C>, "close">;

/**
 * Drivers whose implementation, and the cloud SDK it needs, is imported when the
 * provider is first configured rather than when the service starts: a cloud that no
 * credential entry names never costs its SDK's memory (about 14 MB for
 * google-auth-library, 19 MB for @azure/msal-node and for the AWS SDK clients). The
 * import starts at once, in the background, so the first call seldom waits for it;
 * a failed import fails each call that needs it, and never the start-up.
 */
export function lazyDrivers<C extends ClusterBase>(load: () => Promise<LoadedDrivers<C>>): LoadedDrivers<C> {
  let loaded: LoadedDrivers<C> | undefined;
  let closed = false;
  const loading = load().then((drivers) => {
    loaded = drivers;
    if (closed) drivers.close?.();
    return drivers;
  });
  loading.catch(() => {}); // reported by the calls that await it
  return {
    token: { mintToken: async (cluster, signal) => (loaded ?? (await loading)).token.mintToken(cluster, signal) },
    describer: { describeCluster: async (cluster, signal) => (loaded ?? (await loading)).describer.describeCluster(cluster, signal) },
    close() {
      closed = true;
      loaded?.close?.();
    },
  };
}
