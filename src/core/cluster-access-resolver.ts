import { type Clock, systemClock } from "../common/clock.js";
import { type Expiring, TtlCache } from "../common/ttl-cache.js";
import type { ClusterAccess } from "../drivers/driver.js";
import { driversFor, type DriverSet, type RegisteredCluster } from "./registered-cluster.js";
import { ServiceError } from "../errors/service-error.js";
import {
  isUpstreamOutage,
  isUpstreamVerdict,
  sharedLookupError,
  upstreamBadResponse,
  upstreamUnreachable,
  type UpstreamCall,
} from "../errors/upstream-error.js";
import { observeUpstream, type UpstreamObserver } from "./upstream-observer.js";
import { withRetries, type CallBudget } from "./upstream-retry.js";

/** Options of {@link ClusterAccessResolver}. */
export interface ClusterAccessResolverOptions {
  /** How long discovered access is reused; 0 asks the cloud every time. */
  ttlMs: number;
  /** How long one discovery may take, whoever waits for it. Callers still give up at their own deadline. */
  attemptTimeoutMs?: number;
  /** The most clusters whose access is cached; the registry's size is enough. */
  maxEntries?: number;
  /**
   * How long past its TTL discovered access may still be served when the cloud's
   * API is down (stale-if-error); 0 never serves it.
   */
  maxStaleMs?: number;
  /** Told when stale access is served, for a log line. */
  onStale?: (clusterId: string, err: unknown) => void;
  /** Told of every discovery call to a cloud (metrics). */
  observer?: UpstreamObserver;
  /** The clock discovered access ages by; the system clock when absent. */
  clock?: Clock;
}

/** Discovered access, and when the cloud said so: a reload recomputes its TTL and stale window from that. */
interface Discovered {
  readonly access: ClusterAccess;
  readonly discoveredAt: number;
}

/**
 * Finds where a cluster's API server is and which CA signs it: from the registry
 * when configured, else from the cloud's cluster API through the provider's
 * describer. Discovered access is cached per cluster for the TTL; concurrent
 * lookups of one cluster share a single upstream attempt, which is bounded in time
 * and dropped when it fails, and failed attempts are retried within each caller's
 * own deadline. A result without an https server or a PEM CA is rejected, so no
 * kubeconfig is ever built without them.
 *
 * Stale-if-error: past the TTL, while the cloud's API is down (UNAVAILABLE), the
 * last discovered access is served for up to `maxStaleMs` more. A verdict of the
 * cloud on the cluster itself (404: it is gone; 401/403: the service may not see
 * it) ends that at once: the entry is dropped, and nothing of it is served or
 * listed again until a discovery succeeds.
 */
export class ClusterAccessResolver {
  private readonly cache: TtlCache<string, Discovered>;
  private readonly ttlMs: number;
  private readonly maxStaleMs: number;
  private readonly observer: UpstreamObserver | undefined;
  private readonly clock: Clock;

  constructor(
    private readonly drivers: DriverSet,
    {
      ttlMs,
      attemptTimeoutMs = 10_000,
      maxEntries = 10_000,
      maxStaleMs = 0,
      onStale,
      observer,
      clock = systemClock,
    }: ClusterAccessResolverOptions,
  ) {
    this.observer = observer;
    this.ttlMs = ttlMs;
    this.maxStaleMs = maxStaleMs;
    this.clock = clock;
    this.cache = new TtlCache({
      maxEntries,
      attemptTimeoutMs,
      clock,
      serveStaleOn: isUpstreamOutage,
      forgetOn: isUpstreamVerdict,
      ...(onStale ? { onStale } : {}),
    });
  }

  /** The access of `cluster`, asking its cloud only for what the registry lacks. */
  async resolve(cluster: RegisteredCluster, budget: CallBudget): Promise<ClusterAccess> {
    if (cluster.endpoint && cluster.certificateAuthorityData) {
      return { server: cluster.endpoint, certificateAuthorityData: cluster.certificateAuthorityData };
    }
    const access = await withRetries((signal) => this.lookup(cluster, signal), budget);
    return withConfigured(cluster, access);
  }

  /**
   * The server URL known without asking the cloud: configured, or discovered and
   * still servable (within the TTL and `maxStaleMs`, and not refuted since).
   */
  knownServer(cluster: RegisteredCluster): string | undefined {
    return cluster.endpoint ?? this.cache.usable(cluster.id)?.access.server;
  }

  /**
   * Takes over what `previous` discovered for `clusterIds` (clusters whose config a
   * reload left unchanged), aged by this resolver's TTL and stale window from when
   * it was discovered, so that a reload during an outage keeps serving what the
   * service knew.
   */
  takeOver(previous: ClusterAccessResolver, clusterIds: Iterable<string>): void {
    for (const id of clusterIds) {
      const entry = previous.cache.entry(id);
      if (entry !== undefined) this.cache.put(id, this.expiring(entry.value));
    }
  }

  /** Forgets what was discovered for `clusterIds`: discovered clusters that changed or went. */
  forget(clusterIds: ReadonlySet<string>): void {
    this.cache.deleteWhere((id) => clusterIds.has(id));
  }

  private async lookup(cluster: RegisteredCluster, signal: AbortSignal): Promise<ClusterAccess> {
    try {
      const { access } = await this.cache.get(cluster.id, signal, async (attemptSignal) => {
        const access = await this.discover(cluster, attemptSignal);
        return this.expiring({ access, discoveredAt: this.clock.now() });
      });
      return access;
    } catch (err) {
      throw sharedLookupError(err, signal, discoveryCall(cluster));
    }
  }

  private expiring(discovered: Discovered): Expiring<Discovered> {
    const expiresAt = discovered.discoveredAt + this.ttlMs;
    return this.maxStaleMs > 0
      ? { value: discovered, expiresAt, staleUntil: expiresAt + this.maxStaleMs }
      : { value: discovered, expiresAt };
  }

  private async discover(cluster: RegisteredCluster, signal: AbortSignal): Promise<ClusterAccess> {
    const describer = driversFor(this.drivers, cluster)?.describer;
    if (!describer) {
      throw new ServiceError({
        reason: "DISCOVERY_NOT_SUPPORTED",
        message: `cluster ${cluster.id} has no endpoint and CA in the registry, and provider ${cluster.provider} cannot discover them`,
        metadata: { cluster_id: cluster.id, provider: cluster.provider },
      });
    }
    let access: ClusterAccess;
    try {
      access = await observeUpstream(this.observer, cluster.provider, "discovery", () => describer.describeCluster(cluster, signal));
    } catch (err) {
      // The attempt's own time limit passed: for the callers, the cloud did not answer.
      if (signal.aborted) throw upstreamUnreachable(discoveryCall(cluster), err);
      throw err;
    }
    const problem = accessProblem(access);
    if (problem) throw upstreamBadResponse(discoveryCall(cluster), new Error(problem));
    return access;
  }
}

function discoveryCall(cluster: RegisteredCluster): UpstreamCall {
  return { provider: cluster.provider, operation: "cluster discovery", metadata: { cluster_id: cluster.id } };
}

function withConfigured(cluster: RegisteredCluster, discovered: ClusterAccess): ClusterAccess {
  return {
    server: cluster.endpoint ?? discovered.server,
    certificateAuthorityData: cluster.certificateAuthorityData ?? discovered.certificateAuthorityData,
  };
}

/** Why discovered access is unusable, or undefined when it is fine. */
function accessProblem({ server, certificateAuthorityData }: ClusterAccess): string | undefined {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return "the discovered server is not a URL";
  }
  if (url.protocol !== "https:") return "the discovered server is not https";
  if (
    !/^[A-Za-z0-9+/]+={0,2}$/.test(certificateAuthorityData) ||
    !Buffer.from(certificateAuthorityData, "base64").toString("latin1").includes("-----BEGIN CERTIFICATE-----")
  ) {
    return "the discovered CA is not base64 PEM";
  }
  return undefined;
}
