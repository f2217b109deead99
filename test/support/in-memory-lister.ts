import { stringify } from "yaml";
import { z } from "zod";
import type { ServiceConfig } from "../../src/config/config-schema.js";
import { parseConfig } from "../../src/config/load-config.js";
import { type AccountBase, accountBase } from "../../src/config/schema-parts.js";
import type { DiscoveringProvider } from "../../src/discovery/account-run.js";
import type { ClusterLister, ListedCluster } from "../../src/drivers/cluster-lister.js";
import { awsProvider } from "../../src/drivers/aws/aws-provider.js";
import { providers } from "../../src/providers.js";

/** A cluster the in-memory cloud holds. */
export interface MemoryCluster {
  readonly name: string;
  readonly tags?: Record<string, string>;
  readonly endpoint?: string;
  readonly certificateAuthorityData?: string;
  /** Extra keys of the listed entry, to make the provider's schema refuse it. */
  readonly extra?: Record<string, unknown>;
}

/** What a scope of the in-memory cloud does instead of answering. */
export type ListingFault = { readonly fail: Error } | { readonly hold: true } | { readonly holdIgnoringSignal: true };

/**
 * An in-memory cloud with its lister, for tests of the core of discovery (as Go CDK
 * keeps an in-process driver per capability): clusters per scope (a region),
 * addable and removable while the service runs, faults per scope (a rejection, a
 * listing held until released or aborted, one that ignores its signal), and counts
 * of listings and lookups. It filters by the account's tags as a cloud does; the
 * provider schemas, id templates and reconciling are the real ones.
 */
export class InMemoryCloud implements ClusterLister<AccountBase> {
  readonly scopes = new Map<string, Map<string, MemoryCluster>>();
  readonly faults = new Map<string, ListingFault>();
  /** Listings started, per scope. */
  readonly listings = new Map<string, number>();
  /** Lookups, in order: name and region. */
  readonly lookups: { name: string; region: string }[] = [];
  /** A lookup that fails with this instead of answering. */
  lookupFault: Error | undefined;
  private held: (() => void)[] = [];

  add(scope: string, ...clusters: MemoryCluster[]): void {
    const known = this.scopes.get(scope) ?? new Map<string, MemoryCluster>();
    for (const cluster of clusters) known.set(cluster.name, cluster);
    this.scopes.set(scope, known);
  }

  remove(scope: string, name: string): void {
    this.scopes.get(scope)?.delete(name);
  }

  /** Answers every held listing (with what the cloud holds now); returns how many there were. */
  release(): number {
    const waiting = this.held.splice(0);
    for (const answer of waiting) answer();
    return waiting.length;
  }

  async listScope(account: AccountBase, scope: string, signal: AbortSignal): Promise<readonly ListedCluster[]> {
    this.listings.set(scope, (this.listings.get(scope) ?? 0) + 1);
    const fault = this.faults.get(scope);
    if (fault && "fail" in fault) throw fault.fail;
    if (fault) {
      await new Promise<void>((resolve, reject) => {
        this.held.push(resolve);
        if ("hold" in fault) signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    }
    signal.throwIfAborted();
    return [...(this.scopes.get(scope)?.values() ?? [])].filter((c) => matches(c, account)).map((c) => listed(c, scope));
  }

  async lookup(account: AccountBase, name: string, region: string, signal: AbortSignal): Promise<ListedCluster | undefined> {
    this.lookups.push({ name, region });
    signal.throwIfAborted();
    if (this.lookupFault) throw this.lookupFault;
    const cluster = this.scopes.get(region)?.get(name);
    return cluster && matches(cluster, account) ? listed(cluster, region) : undefined;
  }
}

function matches(cluster: MemoryCluster, account: AccountBase): boolean {
  return Object.entries(account.tags).every(([k, v]) => cluster.tags?.[k] === v);
}

function listed(cluster: MemoryCluster, region: string): ListedCluster {
  const { name, endpoint, certificateAuthorityData, extra } = cluster;
  return {
    entry: { region, name, ...(endpoint ? { endpoint } : {}), ...(certificateAuthorityData ? { certificateAuthorityData } : {}), ...extra },
    name,
    region,
    labels: cluster.tags ?? {},
  };
}

/** The accounts of the in-memory cloud: `accountBase` and regions, under the name of a real provider whose clusters they hold. */
const memoryAccountSchema = z.strictObject({
  ...accountBase,
  provider: z.literal(awsProvider.name),
  regions: z.array(z.string().min(1)).min(1),
});

function makeList(cloud: InMemoryCloud) {
  const discovering = {
    ...awsProvider,
    discovery: {
      accountSchema: memoryAccountSchema,
      filterKey: "tags" as const,
      scopes: (account: { regions: string[] }) => account.regions,
      regions: (account: { regions: string[] }) => account.regions,
    },
    create: () => ({ lister: cloud as ClusterLister<never>, close() {} }),
  };
  return [discovering, ...providers.filter((p) => p.name !== awsProvider.name)] as const;
}

/** One list per cloud, so that the config schema built for it is built once (parseConfig keeps it per list). */
const lists = new WeakMap<InMemoryCloud, ReturnType<typeof makeList>>();

/**
 * The provider list with one provider made to discover through `cloud`: its cluster
 * schema, placement and token drivers stay the real ones, so discovered clusters
 * are validated, listed and minted for like configured ones.
 */
export function providersDiscovering(cloud: InMemoryCloud): ReturnType<typeof makeList> {
  const list = lists.get(cloud) ?? makeList(cloud);
  lists.set(cloud, list);
  return list;
}

/** The list {@link providersDiscovering} makes, as discovery takes it. */
export function discoveringProviders(cloud: InMemoryCloud): readonly DiscoveringProvider[] {
  return providersDiscovering(cloud) as unknown as readonly DiscoveringProvider[];
}

/** Validates a raw config with accounts of the in-memory cloud, as the server does at start-up. */
export function configWithAccounts(cloud: InMemoryCloud, raw: Record<string, unknown>): ServiceConfig {
  return parseConfig(providersDiscovering(cloud), stringify(raw), "/test/config.yaml");
}
