import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { DiscoveryMetrics } from "./discovery-metrics.js";

/** Seconds, from 0.5 ms to 10 s: token issuance is sub-millisecond from the cache, seconds when a cloud is slow. */
const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One method's RPC metrics: started, and handled with a code (Connect's code names are Go's: "OK", "NotFound", …). */
export interface RpcMetrics {
  started(): void;
  handled(code: string, seconds: number): void;
}

/**
 * Every Prometheus metric of the service, in one registry that outlives config
 * reloads. RPC metrics use go-grpc-prometheus's names and labels, so existing
 * dashboards and alerts for gRPC services apply; the service's own metrics are
 * prefixed `cluster_token_`. Label values come from closed sets (RPC names, code
 * names, providers, error reasons, `credentials` entries' names), never from a
 * request, so cardinality is bounded.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly started: Counter<"grpc_type" | "grpc_service" | "grpc_method">;
  private readonly handled: Counter<"grpc_type" | "grpc_service" | "grpc_method" | "grpc_code">;
  private readonly handling: Histogram<"grpc_type" | "grpc_service" | "grpc_method">;
  private readonly upstream: Histogram<"provider" | "operation" | "outcome">;
  private readonly tokenCache: Counter<"result">;
  private readonly issuances: Counter<"rpc" | "provider" | "identity">;
  private readonly auditWrite: Histogram;
  private readonly auditFailures: Counter;
  private readonly reloads: Counter<"result">;
  private readonly unresolvableSecrets: Gauge<"credentials">;
  /** Account discovery's figures, per account and scope. */
  readonly discovery: DiscoveryMetrics;
  /** Label children by key: prom-client hashes labels on every call otherwise. */
  private readonly children = new Map<string, unknown>();

  /**
   * `defaultMetrics` adds prom-client's process metrics (CPU, memory, event-loop
   * lag, GC), whose collectors (a GC observer, an event-loop delay monitor) cost
   * something on every call: only worth it when something can scrape them.
   */
  constructor({ defaultMetrics }: { defaultMetrics: boolean }) {
    const registers = [this.registry];
    this.started = new Counter({
      name: "grpc_server_started_total",
      help: "Total number of RPCs started on the server.",
      labelNames: ["grpc_type", "grpc_service", "grpc_method"],
      registers,
    });
    this.handled = new Counter({
      name: "grpc_server_handled_total",
      help: "Total number of RPCs completed on the server, regardless of success or failure.",
      labelNames: ["grpc_type", "grpc_service", "grpc_method", "grpc_code"],
      registers,
    });
    this.handling = new Histogram({
      name: "grpc_server_handling_seconds",
      help: "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
      labelNames: ["grpc_type", "grpc_service", "grpc_method"],
      buckets: latencyBuckets,
      registers,
    });
    this.upstream = new Histogram({
      name: "cluster_token_upstream_seconds",
      help: "Calls to a cloud's API by provider, operation (token, discovery) and outcome (ok, or the error reason).",
      labelNames: ["provider", "operation", "outcome"],
      buckets: latencyBuckets,
      registers,
    });
    this.tokenCache = new Counter({
      name: "cluster_token_token_cache_requests_total",
      help: "Token-cache lookups by result (hit, miss).",
      labelNames: ["result"],
      registers,
    });
    this.issuances = new Counter({
      name: "cluster_token_issuances_total",
      help: "Tokens handed out (and audited), alone or in an embedded-token kubeconfig, by RPC, provider and the cloud identity (a credentials entry's name) that minted them; exec kubeconfigs mint nothing and are not counted.",
      labelNames: ["rpc", "provider", "identity"],
      registers,
    });
    this.auditWrite = new Histogram({
      name: "cluster_token_audit_write_seconds",
      help: "How long an issuance waited for its audit line to be written.",
      buckets: latencyBuckets,
      registers,
    });
    this.auditFailures = new Counter({
      name: "cluster_token_audit_failures_total",
      help: "Issuances refused because their audit line could not be written in time (AUDIT_FAILED).",
      registers,
    });
    this.reloads = new Counter({
      name: "cluster_token_config_reloads_total",
      help: "Config reloads by result (success, failure).",
      labelNames: ["result"],
      registers,
    });
    this.unresolvableSecrets = new Gauge({
      name: "cluster_token_unresolvable_secret_references",
      help: "Secret references of a credentials entry that cannot be resolved now (unset, missing, unreadable or empty); 0 when all can.",
      labelNames: ["credentials"],
      registers,
    });
    this.discovery = new DiscoveryMetrics(this.registry);
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Exposes a running total kept elsewhere (for example a writer's dropped lines) as a
   * counter read at scrape time.
   */
  exposeTotal(name: string, help: string, read: () => number): void {
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }

  /**
   * The RPC metrics of one method, resolved once: a call then costs an increment, a
   * map lookup by code, another increment and one histogram observation.
   */
  rpc(service: string, method: string): RpcMetrics {
    return this.child(`rpc|${service}|${method}`, () => {
      const started = this.started.labels("unary", service, method);
      const handling = this.handling.labels("unary", service, method);
      const handled = new Map<string, { inc(): void }>();
      return {
        started: () => started.inc(),
        handled: (code: string, seconds: number) => {
          let counter = handled.get(code);
          if (counter === undefined) {
            counter = this.handled.labels("unary", service, method, code);
            handled.set(code, counter);
          }
          counter.inc();
          handling.observe(seconds);
        },
      };
    });
  }

  /** One call to a cloud's API ended: `outcome` is "ok" or the error reason. */
  upstreamCall(provider: string, operation: string, outcome: string, seconds: number): void {
    this.child(`u|${provider}|${operation}|${outcome}`, () => this.upstream.labels(provider, operation, outcome)).observe(seconds);
  }

  tokenCacheLookup(hit: boolean): void {
    this.child(hit ? "c|hit" : "c|miss", () => this.tokenCache.labels(hit ? "hit" : "miss")).inc();
  }

  /**
   * A token handed out (alone, or in an embedded-token kubeconfig) minted as
   * `identity`: the name of a `credentials` entry the call was given, never a value a
   * request chose that no config names.
   */
  issued(rpc: string, provider: string, identity: string): void {
    this.child(`i|${rpc}|${provider}|${identity}`, () => this.issuances.labels(rpc, provider, identity)).inc();
  }

  auditWritten(seconds: number): void {
    this.auditWrite.observe(seconds);
  }

  auditFailed(): void {
    this.auditFailures.inc();
  }

  configReloaded(success: boolean): void {
    this.reloads.labels(success ? "success" : "failure").inc();
  }

  /**
   * How many secret references of each credentials entry cannot be resolved now, for
   * every entry of the running config that has any; entries no longer configured
   * lose their series. Label values are credentials names from the config.
   */
  secretReferencesChecked(unresolvable: ReadonlyMap<string, number>): void {
    this.unresolvableSecrets.reset();
    for (const [credentials, count] of unresolvable) this.unresolvableSecrets.labels(credentials).set(count);
  }

  /** The exposition text for a scrape. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  private child<T>(key: string, make: () => T): T {
    let child = this.children.get(key) as T | undefined;
    if (child === undefined) {
      child = make();
      this.children.set(key, child);
    }
    return child;
  }
}
