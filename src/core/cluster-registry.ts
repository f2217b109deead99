import type { ClusterConfig } from "../config/config-schema.js";
import type { RegisteredCluster } from "./registered-cluster.js";

/** The `source` of a configured cluster, as ListClusters shows it. */
export const configSource = "config";

/**
 * The clusters the process discovered in cloud accounts, as the registry reads
 * them; the process's account discovery implements it, and outlives the services
 * that read it.
 */
export interface DiscoveredSource {
  /** The discovered cluster with this id, or undefined: the hot path, a Map lookup. */
  get(id: string): RegisteredCluster | undefined;
  /** Every discovered cluster, sorted by id. */
  sorted(): readonly RegisteredCluster[];
  /** Changes whenever a discovered cluster is added, updated or removed. */
  readonly version: number;
  /** The account that found the cluster with this id. */
  sourceOf(id: string): string | undefined;
  /**
   * Asks the cloud for a cluster with this id that no listing has found yet (see
   * `AccountDiscovery.lookup`): undefined when no account has it.
   */
  lookup(id: string, signal: AbortSignal): Promise<RegisteredCluster | undefined>;
}

const byId = (a: RegisteredCluster, b: RegisteredCluster) => Number(a.id > b.id) - Number(a.id < b.id);

/**
 * The registered clusters, by id: the config's `clusters` entries, which never
 * change for this service, and the clusters discovered in its accounts, which do. A
 * configured id always wins over a discovered one. Lookups are one or two Map
 * lookups; the sorted list is rebuilt only after discovery changed something.
 */
export class ClusterRegistry {
  private readonly byId: ReadonlyMap<string, RegisteredCluster>;
  private readonly configured: readonly RegisteredCluster[];
  private merged: { readonly version: number; readonly sorted: readonly RegisteredCluster[] } | undefined;

  constructor(
    clusters: readonly RegisteredCluster[],
    private readonly discovered?: DiscoveredSource,
  ) {
    // Ids are lower-case ASCII, so code-unit order is the order people expect.
    this.configured = [...clusters].sort(byId);
    this.byId = new Map(this.configured.map((c) => [c.id, c]));
  }

  /**
   * Builds the registry from the config's `clusters` list and the process's
   * discovered clusters. The config's union validated each entry with its
   * provider's schema, so each is its provider's registered cluster.
   */
  static fromConfig(clusters: readonly ClusterConfig[], discovered?: DiscoveredSource): ClusterRegistry {
    return new ClusterRegistry(clusters as readonly RegisteredCluster[], discovered);
  }

  /** The cluster with this id, or undefined; never waits. */
  get(id: string): RegisteredCluster | undefined {
    return this.byId.get(id) ?? this.discovered?.get(id);
  }

  /**
   * The cluster with this id, asking the cloud accounts for it when no listing has
   * found it yet. Authorize the caller for the id before calling this.
   */
  async find(id: string, signal: AbortSignal): Promise<RegisteredCluster | undefined> {
    return this.get(id) ?? this.discovered?.lookup(id, signal);
  }

  /** Where a cluster comes from: "config", or the id of the account whose listing found it. */
  source(cluster: RegisteredCluster): string {
    return this.byId.get(cluster.id) === cluster ? configSource : (this.discovered?.sourceOf(cluster.id) ?? configSource);
  }

  /** Every cluster, sorted by id. */
  list(): readonly RegisteredCluster[] {
    const discovered = this.discovered;
    if (!discovered) return this.configured;
    if (this.merged?.version !== discovered.version) {
      this.merged = { version: discovered.version, sorted: merge(this.configured, discovered.sorted(), this.byId) };
    }
    return this.merged.sorted;
  }
}

/** Two lists sorted by id as one, leaving out discovered clusters whose id is configured. */
function merge(
  configured: readonly RegisteredCluster[],
  discovered: readonly RegisteredCluster[],
  configuredIds: ReadonlyMap<string, unknown>,
): RegisteredCluster[] {
  const result: RegisteredCluster[] = [];
  let i = 0;
  for (const cluster of discovered) {
    if (configuredIds.has(cluster.id)) continue;
    while (i < configured.length && (configured[i] as RegisteredCluster).id < cluster.id) result.push(configured[i++] as RegisteredCluster);
    result.push(cluster);
  }
  while (i < configured.length) result.push(configured[i++] as RegisteredCluster);
  return result;
}
