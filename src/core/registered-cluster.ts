import type { z } from "zod";
import type { ProviderDrivers } from "../drivers/driver.js";
import type { KnownProvider, ProviderName } from "../providers.js";

/**
 * A registered cluster as the core and drivers see it: a validated `clusters` entry,
 * discriminated by provider, so that each driver gets the attributes its cloud
 * needs. Derived from the provider list, never written out by hand.
 */
export type RegisteredCluster = z.output<KnownProvider["clusterSchema"]>;

/** The registered-cluster shape of one provider. */
export type ClusterOf<P extends ProviderName> = Extract<RegisteredCluster, { provider: P }>;

/**
 * The drivers of every provider this process serves, by provider, built in the
 * composition root. Each takes clusters of its own provider only; see {@link driversFor}.
 */
export type DriverSet = { readonly [P in ProviderName]?: ProviderDrivers<never> };

/**
 * The drivers for `cluster`'s provider. The set is keyed by provider, so the
 * drivers found take clusters of exactly that provider; TypeScript cannot follow a
 * key into a mapped type, hence the one widening here.
 */
export function driversFor(drivers: DriverSet, cluster: RegisteredCluster): ProviderDrivers<RegisteredCluster> | undefined {
  return drivers[cluster.provider] as ProviderDrivers<RegisteredCluster> | undefined;
}
