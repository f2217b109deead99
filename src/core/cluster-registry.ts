import type { ClusterConfig } from "../config/config-schema.js";
import type { RegisteredCluster } from "../drivers/driver.js";

/**
 * The registered clusters, by id. Built once from the validated config and
 * read-only afterwards, so lookups need no locking and listings are stable.
 */
export class ClusterRegistry {
  private readonly byId: ReadonlyMap<string, RegisteredCluster>;
  private readonly sorted: readonly RegisteredCluster[];

  constructor(clusters: readonly RegisteredCluster[]) {
    this.sorted = [...clusters].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.byId = new Map(this.sorted.map((c) => [c.id, c]));
  }

  /** Builds the registry from the config's `clusters` list. */
  static fromConfig(clusters: readonly ClusterConfig[]): ClusterRegistry {
    return new ClusterRegistry(
      clusters.map((c) => ({
        id: c.id,
        provider: c.provider,
        region: c.region,
        name: c.name,
        displayName: c.displayName ?? "",
        labels: c.labels ?? {},
        credentials: c.credentials,
        ...(c.endpoint ? { endpoint: c.endpoint } : {}),
        ...(c.certificateAuthorityData ? { certificateAuthorityData: c.certificateAuthorityData } : {}),
      })),
    );
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
