import type { ClusterBase } from "../config/schema-parts.js";
import type { ProviderDrivers } from "./driver.js";

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
