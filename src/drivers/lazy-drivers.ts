import type { AccountBase, ClusterBase } from "../config/schema-parts.js";
import { ServiceError } from "../errors/service-error.js";
import type { ClusterLister } from "./cluster-lister.js";
import type { ProviderDrivers } from "./driver.js";

/** The drivers a lazy provider's implementation module builds. */
export type LoadedDrivers<C extends ClusterBase> = Required<Pick<ProviderDrivers<C>, "token" | "describer">> &
  Pick<ProviderDrivers<C>, "close">;

/** The drivers of a provider whose accounts can be discovered: a lister besides. */
export type LoadedDriversWithLister<C extends ClusterBase, A extends AccountBase> = LoadedDrivers<C> & {
  readonly lister: ClusterLister<A>;
};

/**
 * Drivers whose implementation, and the cloud SDK it needs, is imported when the
 * provider is first configured rather than when the service starts: a cloud that no
 * credential entry names never costs its SDK's memory (about 14 MB for
 * google-auth-library, 19 MB for @azure/msal-node and for the AWS SDK clients). The
 * import starts at once, in the background, so the first call seldom waits for it;
 * a failed import fails each call that needs it (listings included: INTERNAL, never
 * an empty listing), and never the start-up.
 *
 * Whether the loaded module builds a lister is known only once it is loaded, so a
 * provider that declares `discovery` says so with `{ lister: true }`: the drivers
 * then have a lister at once, which waits for the import like the others.
 */
export function lazyDrivers<C extends ClusterBase>(load: () => Promise<LoadedDrivers<C>>): LoadedDrivers<C>;
export function lazyDrivers<C extends ClusterBase, A extends AccountBase>(
  load: () => Promise<LoadedDriversWithLister<C, A>>,
  options: { readonly lister: true },
): LoadedDriversWithLister<C, A>;
export function lazyDrivers<C extends ClusterBase, A extends AccountBase>(
  load: () => Promise<LoadedDrivers<C> & { readonly lister?: ClusterLister<A> }>,
  options?: { readonly lister: true },
): LoadedDrivers<C> & { readonly lister?: ClusterLister<A> } {
  let loaded: (LoadedDrivers<C> & { readonly lister?: ClusterLister<A> }) | undefined;
  let closed = false;
  const loading = load().then(
    (drivers) => {
      loaded = drivers;
      if (closed) drivers.close?.();
      return drivers;
    },
    (err: unknown) => {
      throw new ServiceError({ reason: "INTERNAL", message: "the provider's drivers could not be loaded", cause: err });
    },
  );
  loading.catch(() => {}); // reported by the calls that await it
  const drivers = async () => loaded ?? (await loading);
  const lister = async () => {
    const own = (await drivers()).lister;
    if (!own) throw new ServiceError({ reason: "INTERNAL", message: "@private the provider's drivers were loaded without a lister" });
    return own;
  };
  return {
    token: { mintToken: async (cluster, signal) => (await drivers()).token.mintToken(cluster, signal) },
    describer: { describeCluster: async (cluster, signal) => (await drivers()).describer.describeCluster(cluster, signal) },
    ...(options?.lister
      ? {
          lister: {
            listScope: async (account, scope, signal) => (await lister()).listScope(account, scope, signal),
            lookup: async (account, name, region, signal) => (await lister()).lookup(account, name, region, signal),
          },
        }
      : {}),
    close() {
      closed = true;
      loaded?.close?.();
    },
  };
}
