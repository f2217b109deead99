import { driversFor, type ClusterAccess, type DriverSet, type RegisteredCluster } from "../drivers/driver.js";
import { raceAbort, upstreamBadResponse, upstreamUnreachable, type UpstreamCall } from "../drivers/upstream-error.js";
import { ServiceError } from "../errors/service-error.js";

/** Options of {@link ClusterAccessResolver}. */
export interface ClusterAccessResolverOptions {
  /** How long discovered access is reused; 0 asks the cloud every time. */
  ttlMs: number;
  /** How long one discovery may take, whoever waits for it. Callers still give up at their own deadline. */
  discoveryTimeoutMs?: number;
  /** The clock, in ms; tests pin it. */
  now?: () => number;
}

interface CacheEntry {
  access: ClusterAccess;
  expiresAt: number;
}

/**
 * Finds where a cluster's API server is and which CA signs it: from the registry
 * when configured, else from the cloud's cluster API through the provider's
 * describer. Discovered access is cached per cluster for the TTL, and concurrent
 * lookups of one cluster share a single upstream call. A result without an https
 * server or a PEM CA is rejected, so no kubeconfig is ever built without them.
 */
export class ClusterAccessResolver {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<ClusterAccess>>();
  private readonly ttlMs: number;
  private readonly discoveryTimeoutMs: number;
  private readonly now: () => number;

  constructor(
    private readonly drivers: DriverSet,
    { ttlMs, discoveryTimeoutMs = 15_000, now = Date.now }: ClusterAccessResolverOptions,
  ) {
    this.ttlMs = ttlMs;
    this.discoveryTimeoutMs = discoveryTimeoutMs;
    this.now = now;
  }

  /** The access of `cluster`, asking its cloud only for what the registry lacks. */
  async resolve(cluster: RegisteredCluster, signal: AbortSignal): Promise<ClusterAccess> {
    if (cluster.endpoint && cluster.certificateAuthorityData) {
      return { server: cluster.endpoint, certificateAuthorityData: cluster.certificateAuthorityData };
    }
    const cached = this.cache.get(cluster.id);
    if (cached && cached.expiresAt > this.now()) return withConfigured(cluster, cached.access);
    let pending = this.inflight.get(cluster.id);
    if (!pending) {
      pending = this.discover(cluster).finally(() => this.inflight.delete(cluster.id));
      this.inflight.set(cluster.id, pending);
    }
    return withConfigured(cluster, await raceAbort(pending, signal, discoveryCall(cluster)));
  }

  /** The server URL known without asking the cloud: configured or cached. */
  knownServer(cluster: RegisteredCluster): string | undefined {
    return cluster.endpoint ?? this.cache.get(cluster.id)?.access.server;
  }

  private async discover(cluster: RegisteredCluster): Promise<ClusterAccess> {
    const describer = driversFor(this.drivers, cluster)?.describer;
    if (!describer) {
      throw new ServiceError({
        code: "FailedPrecondition",
        reason: "DISCOVERY_NOT_SUPPORTED",
        message: `cluster ${cluster.id} has no endpoint and CA in the registry, and provider ${cluster.provider} cannot discover them`,
        metadata: { cluster_id: cluster.id, provider: cluster.provider },
      });
    }
    const deadline = AbortSignal.timeout(this.discoveryTimeoutMs);
    let access: ClusterAccess;
    try {
      access = await describer.describeCluster(cluster, deadline);
    } catch (err) {
      if (deadline.aborted) throw upstreamUnreachable(discoveryCall(cluster), err);
      throw err;
    }
    const problem = accessProblem(access);
    if (problem) throw upstreamBadResponse(discoveryCall(cluster), new Error(problem));
    if (this.ttlMs > 0) this.cache.set(cluster.id, { access, expiresAt: this.now() + this.ttlMs });
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
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(certificateAuthorityData) || !Buffer.from(certificateAuthorityData, "base64").toString("latin1").includes("-----BEGIN CERTIFICATE-----")) {
    return "the discovered CA is not base64 PEM";
  }
  return undefined;
}
