import { Counter, Gauge, type Registry } from "prom-client";
import type { LookupResult } from "../discovery/account-lookups.js";
import type { SkipReason } from "../discovery/cluster-admission.js";
import type { DiscoveryObserver } from "../discovery/discovery-observer.js";

type ScopeLabels = "account" | "scope";

/**
 * The metrics of account discovery, per account and scope, in the server's registry.
 * Label values are account ids and scopes from the config, and closed sets (status
 * codes, error reasons, skip reasons, lookup results): never a cluster id, a cloud's
 * answer or a request. An account's series go when it is removed, so that reloads
 * cannot pile them up.
 */
export class DiscoveryMetrics implements DiscoveryObserver {
  private readonly known: Gauge<ScopeLabels>;
  private readonly lastSuccess: Gauge<ScopeLabels>;
  private readonly listings: Counter<ScopeLabels | "code" | "reason">;
  private readonly skippedNow: Gauge<ScopeLabels | "reason">;
  private readonly labelsDroppedNow: Gauge<ScopeLabels>;
  private readonly lookups: Counter<"account" | "result">;
  /** The series each account has, by metric name and labels, so that they can be removed. */
  private readonly series = new Map<string, Map<string, { readonly scope: string; readonly remove: () => void }>>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.known = new Gauge({
      name: "cluster_token_discovered_clusters",
      help: "Clusters a scope of an account holds, as of its last complete listing.",
      labelNames: ["account", "scope"],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: "cluster_token_discovery_last_success_timestamp_seconds",
      help: "When a scope of an account was last listed completely (Unix time).",
      labelNames: ["account", "scope"],
      registers,
    });
    this.listings = new Counter({
      name: "cluster_token_discovery_listings_total",
      help: "Listings of a scope of an account by code (OK, or the status of the failure) and error reason; a failed listing removes nothing.",
      labelNames: ["account", "scope", "code", "reason"],
      registers,
    });
    this.skippedNow = new Gauge({
      name: "cluster_token_discovery_skipped_clusters",
      help: "Clusters the last complete listing of a scope could not register, by reason (invalid_id, static_id, id_collision, refused_by_schema, over_cap).",
      labelNames: ["account", "scope", "reason"],
      registers,
    });
    this.labelsDroppedNow = new Gauge({
      name: "cluster_token_discovery_labels_dropped",
      help: "Tags the last complete listing of a scope did not keep as labels (unprintable, too long, not a label key, or past 64).",
      labelNames: ["account", "scope"],
      registers,
    });
    this.lookups = new Counter({
      name: "cluster_token_discovery_lookups_total",
      help: "Requests for ids no listing had found, by result: found, not_found, unknown_id_cached (answered from memory), throttled, failed.",
      labelNames: ["account", "result"],
      registers,
    });
  }

  listingSucceeded(account: string, scope: string, known: number, atMs: number): void {
    this.gauge(account, scope, this.known, { account, scope }).set(known);
    this.gauge(account, scope, this.lastSuccess, { account, scope }).set(atMs / 1000);
    this.counter(account, scope, this.listings, { account, scope, code: "OK", reason: "" }).inc();
  }

  listingFailed(account: string, scope: string, code: string, reason: string): void {
    this.counter(account, scope, this.listings, { account, scope, code, reason }).inc();
  }

  skipped(account: string, scope: string, counts: ReadonlyMap<SkipReason, number>, labelsDropped: number): void {
    for (const reason of ["invalid_id", "static_id", "id_collision", "refused_by_schema", "over_cap"] as const) {
      const count = counts.get(reason) ?? 0;
      // A reason that never happened has no series; one that did goes back to 0.
      if (count > 0 || this.has(account, scope, reason)) this.gauge(account, scope, this.skippedNow, { account, scope, reason }).set(count);
    }
    this.gauge(account, scope, this.labelsDroppedNow, { account, scope }).set(labelsDropped);
  }

  lookup(account: string, result: LookupResult): void {
    this.counter(account, "", this.lookups, { account, result }).inc();
  }

  forget(account: string, scopes?: readonly string[]): void {
    const series = this.series.get(account);
    for (const [key, { scope, remove }] of series ?? []) {
      if (scopes !== undefined && !scopes.includes(scope)) continue;
      remove();
      series?.delete(key);
    }
    if (series?.size === 0) this.series.delete(account);
  }

  private has(account: string, scope: string, reason: string): boolean {
    return this.series.get(account)?.has(seriesKey(this.skippedNow, { account, scope, reason })) ?? false;
  }

  /** The child of the gauge `metric` for `labels`, remembered under `account` so that {@link forget} can remove it. */
  private gauge<L extends string>(account: string, scope: string, metric: Gauge<L>, labels: Record<L, string>) {
    this.remember(account, scope, metric, labels);
    return metric.labels(labels);
  }

  /** The child of the counter `metric` for `labels`, remembered as {@link gauge} does. */
  private counter<L extends string>(account: string, scope: string, metric: Counter<L>, labels: Record<L, string>) {
    this.remember(account, scope, metric, labels);
    return metric.labels(labels);
  }

  private remember<L extends string>(account: string, scope: string, metric: Gauge<L> | Counter<L>, labels: Record<L, string>): void {
    const series = this.series.get(account) ?? new Map();
    this.series.set(account, series);
    const key = seriesKey(metric, labels);
    if (!series.has(key)) series.set(key, { scope, remove: () => metric.remove(labels) });
  }
}

function seriesKey(metric: { readonly name: string } | object, labels: object): string {
  return `${(metric as { name?: string }).name}|${JSON.stringify(labels)}`;
}
