import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import { ClusterTokenService } from "../gen/clustertoken/v1/cluster_token_service_pb.js";
import type { AuditLog } from "./audit/audit-log.js";
import { AccessPolicy } from "./auth/access-policy.js";
import { Authenticator } from "./auth/authenticator.js";
import { RateLimiter } from "./auth/rate-limiter.js";
import { type Clock, systemClock } from "./common/clock.js";
import type { ServiceConfig } from "./config/config-schema.js";
import { defaultMaxClusters } from "./config/schema-parts.js";
import { forgetSecretFiles } from "./config/secret-ref.js";
import { ClusterAccessResolver } from "./core/cluster-access-resolver.js";
import { ClusterRegistry, type DiscoveredSource } from "./core/cluster-registry.js";
import { createClusterTokenHandlers } from "./core/cluster-token-handlers.js";
import { watchCredentialFiles } from "./core/credential-file-watch.js";
import type { DriverSet } from "./core/registered-cluster.js";
import { TokenCache } from "./core/token-cache.js";
import type { ProviderDrivers, ProviderOptions } from "./drivers/driver.js";
import { errorSummary } from "./logging/logger.js";
import type { ServiceMetrics } from "./metrics/service-metrics.js";
import { accessLog } from "./pipeline/access-log.js";
import { audit as auditLink } from "./pipeline/audit.js";
import { authenticate } from "./pipeline/authenticate.js";
import { createCallRunner } from "./pipeline/call-runner.js";
import type { Link } from "./pipeline/link.js";
import { rateLimit } from "./pipeline/rate-limit.js";
import { rejectUndecodable } from "./pipeline/reject-undecodable.js";
import { rpcMetrics } from "./pipeline/rpc-metrics.js";
import { traceCalls } from "./pipeline/trace-calls.js";
import { clusterPlacement, providers } from "./providers.js";
import { withCacheAnnotation, withUpstreamSpans } from "./tracing/observer-spans.js";
import type { Tracing } from "./tracing/tracing.js";
import type { UnaryInvoker } from "./transports/unary-invoker.js";

/** Options of {@link createService}. */
export interface ServiceOptions {
  logger: Logger;
  /**
   * Where RPC, upstream and cache metrics go. The process's server owns it and keeps
   * it across reloads; the service only reports to it.
   */
  metrics: ServiceMetrics;
  /**
   * Where issuances and denials are recorded. The process's server opens, keeps and
   * closes it across reloads; the service only writes to it.
   */
  audit: AuditLog;
  /**
   * The service this one replaces on a reload. What it discovered for clusters whose
   * entry and credentials did not change is taken over, so that a reload during a
   * cloud outage keeps serving the last known endpoints.
   */
  previous?: Service;
  /**
   * The clock of the core and every driver: when discovered access and cached tokens
   * expire, and the time tokens are signed with. The system clock when absent; tests pin it.
   */
  clock?: Clock;
  /** Drivers to use instead of those the config's credentials would build: in-memory ones in tests. */
  drivers?: DriverSet;
  /**
   * Where spans go when tracing is on (`src/tracing/`): a span per call, children for
   * its upstream calls and audit commit. The process starts it once and keeps it
   * across reloads. Absent, the pipeline has no tracing link at all.
   */
  tracing?: Tracing;
  /**
   * The clusters the process discovers in `accounts`: the server owns the discovery
   * and keeps it across reloads; the service reads its clusters. Absent: only the
   * configured clusters are served.
   */
  discovery?: ServiceDiscovery;
}

/** What a service reads of the process's account discovery. */
export interface ServiceDiscovery extends DiscoveredSource {
  /** Tells `listener` the ids of discovered clusters that changed or went; returns how to stop. */
  onChange(listener: (ids: ReadonlySet<string>) => void): () => void;
  /** The ids of the discovered clusters of `accounts`. */
  clusterIdsOf(accounts: ReadonlySet<string>): string[];
}

/**
 * The service without its listeners: one implementation of ClusterTokenService
 * behind its call pipeline, and the health it reports. Listeners (`src/server.ts`),
 * in-memory transports in tests, and a reload all attach to this.
 */
export interface Service {
  /** Calls one RPC for any transport. */
  readonly invoke: UnaryInvoker;
  /** The config this service was built from. */
  readonly config: ServiceConfig;
  /**
   * Closes what the service owns once its calls in flight have finished (they end by
   * `limits.maxCallSeconds` at the latest): the watch on its credential files, then
   * the drivers' SDK clients. Used after the listeners close, and when a reload
   * replaces this service.
   */
  close(): Promise<void>;
}

/** The discovery of each service, for the one that replaces it; kept off the interface, which is the listeners'. */
const discoveryOf = new WeakMap<Service, ClusterAccessResolver>();

/** Builds the drivers of every provider the config has credentials for. */
function createDriverSet(config: ServiceConfig, options: ProviderOptions): DriverSet {
  const drivers: { -readonly [P in keyof DriverSet]: DriverSet[P] } = {};
  for (const provider of providers) {
    const built = provider.driversFrom(config.credentials, options);
    if (built) drivers[provider.name] = built;
  }
  return drivers;
}

/**
 * The ids of the `clusters` or `accounts` entries whose entry, and the credentials
 * entry it names, are the same in both configs: what a reload leaves as it was.
 */
function unchanged(key: "clusters" | "accounts", previous: ServiceConfig, next: ServiceConfig): string[] {
  const before = new Map<string, { readonly credentials: string }>(previous[key].map((entry) => [entry.id, entry]));
  return next[key]
    .filter((entry) => {
      const old = before.get(entry.id);
      return (
        old !== undefined &&
        isDeepStrictEqual(old, entry) &&
        isDeepStrictEqual(previous.credentials[old.credentials], next.credentials[entry.credentials])
      );
    })
    .map((entry) => entry.id);
}

/**
 * The composition root of the service: config, registry, drivers, policy, handlers
 * and the call pipeline, wired explicitly, reporting to the audit sink and metrics
 * it is given. Nothing here touches the network.
 */
export function createService(config: ServiceConfig, options: ServiceOptions): Service {
  const { logger, drivers: injected, metrics, audit, previous, discovery, clock = systemClock, tracing } = options;
  const { security } = config;
  const upstreamTimeoutMs = config.limits.upstreamTimeoutSeconds * 1000;
  const upstream = withUpstreamSpans(metrics.upstreamCall.bind(metrics), tracing);
  const warn = (fields: Record<string, unknown>, message: string) => logger.warn(fields, message);
  const drivers = injected ?? createDriverSet(config, { upstreamTimeoutMs, clock, warn });
  const access = new ClusterAccessResolver(drivers, {
    ttlMs: config.discovery.cacheTtlSeconds * 1000,
    attemptTimeoutMs: upstreamTimeoutMs,
    maxEntries: Math.max(
      1,
      config.clusters.length + config.accounts.reduce((sum, account) => sum + (account.maxClusters ?? defaultMaxClusters), 0),
    ),
    maxStaleMs: config.discovery.maxStaleSeconds * 1000,
    onStale: (clusterId, err) =>
      logger.warn({ cluster_id: clusterId, error: errorSummary(err, logger) }, "discovery failed; serving the last known endpoint and CA"),
    observer: upstream,
    clock,
  });
  const replaced = previous && discoveryOf.get(previous);
  if (previous && replaced) {
    const discovered = discovery?.clusterIdsOf(new Set(unchanged("accounts", previous.config, config))) ?? [];
    access.takeOver(replaced, [...unchanged("clusters", previous.config, config), ...discovered]);
  }
  const exec = { ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}), command: config.kubeconfig.execCommand };
  const policy = security.insecurePlaintext
    ? AccessPolicy.allowAll(config.credentials)
    : AccessPolicy.fromGrants(security.grants, config.credentials);
  const tokens = config.tokenCache.enabled
    ? new TokenCache({ maxEntries: config.tokenCache.maxEntries, attemptTimeoutMs: upstreamTimeoutMs, clock })
    : undefined;
  const registry = ClusterRegistry.fromConfig(config.clusters, discovery);
  // A key rewritten in place: read it again at once, and hand out no token signed with the old one.
  const credentialFiles = watchCredentialFiles(config, (file, credentials) => {
    forgetSecretFiles([file]);
    // Tokens are keyed by the identity that signed them, whichever cluster they are for.
    tokens?.forgetIdentities(credentials);
    logger.info(
      { file, credentials: [...credentials].sort() },
      "a credentials file changed; tokens signed with its old content are no longer served",
    );
  });
  // A discovered cluster that changed or went: its tokens and discovered endpoint are not served again.
  const stopWatchingDiscovery = discovery?.onChange((ids) => {
    tokens?.forgetClusters(ids);
    access.forget(ids);
  });
  const observer = { upstream, tokenCacheLookup: withCacheAnnotation((hit) => metrics.tokenCacheLookup(hit), tracing) };
  const handlers = createClusterTokenHandlers({
    registry,
    drivers,
    access,
    exec,
    policy,
    observer,
    placement: clusterPlacement,
    ...(tokens ? { tokens } : {}),
  });
  // The call pipeline, outermost first: every call is traced (when tracing is on), counted and logged; issuances and
  // denials are audited (failing closed); the caller is authenticated, then rate-limited; undecodable requests stop
  // before any handler.
  const links: Link[] = [
    ...(tracing ? [traceCalls(tracing)] : []),
    rpcMetrics(metrics),
    accessLog(logger),
    auditLink(audit, tracing),
    authenticate(security.insecurePlaintext ? Authenticator.none() : Authenticator.withKeys(security.apiKeys)),
    ...(security.rateLimit ? [rateLimit(new RateLimiter(security.rateLimit))] : []),
    rejectUndecodable,
  ];
  const runner = createCallRunner(ClusterTokenService, handlers, { links, maxCallMs: config.limits.maxCallSeconds * 1000 });
  let inFlight = 0;
  let idle: (() => void) | undefined;
  let closing: Promise<void> | undefined;
  const service: Service = {
    config,
    async invoke(method, request, call) {
      inFlight++;
      try {
        return await runner(method, request, call);
      } finally {
        if (--inFlight === 0) idle?.();
      }
    },
    close() {
      closing ??= (async () => {
        credentialFiles.close();
        stopWatchingDiscovery?.();
        if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
        for (const provider of Object.values<ProviderDrivers<never> | undefined>(drivers)) provider?.close?.();
      })();
      return closing;
    },
  };
  discoveryOf.set(service, access);
  return service;
}
