import type { ClusterBase } from "../config/schema-parts.js";
import type { ClusterLister } from "./cluster-lister.js";
import type { ProviderDrivers } from "./driver.js";

/** The drivers a lazy provider's implementation module builds, and what {@link lazyDrivers} returns for them. */
export type LoadedDrivers<C extends ClusterBase> = Required<Pick<ProviderDrivers<C>, "token" | "describer">> &
  Pick<ProviderDrivers<C>, "close" | "lister">;

/**
 * Drivers whose implementation, and the cloud SDK it needs, is imported when the
 * provider is first configured rather than when the service starts: a cloud that no
 * credential entry names never costs its SDK's memory (about 14 MB for
 * google-auth-library, 19 MB for @azure/msal-node and for the AWS SDK clients). The
 * import starts at once, in the background, so the first call seldom waits for it;
 * a failed import fails each call that needs it, and never the start-up.
 *
 * A provider that discovers accounts passes `{ lister: true }`: whether drivers have
 * a lister must be known before the import ends, so the lazy lister is there from the
 * start and hands each call to the loaded one.
 */
export function lazyDrivers<C extends ClusterBase>(
  load: () => Promise<LoadedDrivers<C>>,
  { lister = false }: { lister?: boolean } = {},
): LoadedDrivers<C> {
  let loaded: LoadedDrivers<C> | undefined;
  let closed = false;
  const loading = load().then((drivers) => {
    loaded = drivers;
    if (closed) drivers.close?.();
    return drivers;
  });
  loading.catch(() => {}); // reported by the calls that await it
  const loadedLister = async (): Promise<ClusterLister<never>> => {
    const drivers = loaded ?? (await loading);
    if (!drivers.lister) throw new Error("@private a lazy provider declared a lister its module did not build");
    return drivers.lister;
  };
  return {
    token: { mintToken: async (cluster, signal) => (loaded ?? (await loading)).token.mintToken(cluster, signal) },
    describer: { describeCluster: async (cluster, signal) => (loaded ?? (await loading)).describer.describeCluster(cluster, signal) },
    ...(lister
      ? {
          lister: {
            listScope: async (account, scope, signal) => (await loadedLister()).listScope(account, scope, signal),
            lookup: async (account, name, region, signal) => (await loadedLister()).lookup(account, name, region, signal),
          },
        }
      : {}),
    close() {
      closed = true;
      loaded?.close?.();
    },
  };
}
