import type { ClusterConfig } from "../config/config-schema.js";
import type { RegisteredCluster } from "./registered-cluster.js";

/**
 * The registered clusters, by id. Built once from the validated config and
 * read-only afterwards, so lookups need no locking and listings are stable.
 */
export class ClusterRegistry {
  private readonly byId: ReadonlyMap<string, RegisteredCluster>;
  private readonly sorted: readonly RegisteredCluster[];

  constructor(clusters: readonly RegisteredCluster[]) {
    // Ids are lower-case ASCII, so code-unit order is the order people expect.
    this.sorted = [...clusters].sort((a, b) => Number(a.id > b.id) - Number(a.id < b.id));
    this.byId = new Map(this.sorted.map((c) => [c.id, c]));
  }

  /**
   * Builds the registry from the config's `clusters` list. The config's union
   * validated each entry with its provider's schema, so each is its provider's
   * registered cluster.
   */
  static fromConfig(clusters: readonly ClusterConfig[]): ClusterRegistry {
    return new ClusterRegistry(clusters as readonly RegisteredCluster[]);
  }

  /** The cluster with this id, or undefined. */
  get(id: string): RegisteredCluster | undefined {
    return this.byId.get(id);
  }

  /** Every cluster, sorted by id. */
  list(): readonly RegisteredCluster[] {
    return this.sorted;
  }
}
