import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import { type Clock, systemClock } from "../common/clock.js";
import { ConcurrencyLimit } from "../common/concurrency-limit.js";
import { type Scheduler, systemScheduler } from "../common/scheduler.js";
import type { AccountConfig, ServiceConfig } from "../config/config-schema.js";
import type { DiscoveredSource } from "../core/cluster-registry.js";
import type { RegisteredCluster } from "../core/registered-cluster.js";
import type { ProviderOptions } from "../drivers/driver.js";
import { sharedLookupError } from "../errors/upstream-error.js";
import { errorSummary } from "../logging/logger.js";
import type { LookupSettings } from "./account-lookups.js";
import { AccountRun, type CycleEvent, type DiscoveringProvider } from "./account-run.js";
import { DiscoveredClusters } from "./discovered-clusters.js";
import type { DiscoveryObserver } from "./discovery-observer.js";

/** What account discovery reads of the config: the accounts, their credentials, the configured ids, and its settings. */
export type DiscoveryConfig = Pick<ServiceConfig, "accounts" | "credentials" | "clusters" | "accountDiscovery">;

/** Options of {@link AccountDiscovery}. */
export interface AccountDiscoveryOptions {
  /** The provider list; an account's provider builds its lister. */
  readonly providers: readonly DiscoveringProvider[];
  readonly logger: Logger;
  /** Where figures per account and scope go (metrics). */
  readonly observer?: DiscoveryObserver;
  /** How long one request to a cloud may take (`limits.upstreamTimeoutSeconds`, fixed while running). */
  readonly upstreamTimeoutMs: number;
  /** The clock of listings, lookups and the drivers; the system clock when absent. */
  readonly clock?: Clock;
  /** How polls wait; the system's timers when absent. Tests move a fake one. */
  readonly scheduler?: Scheduler;
  /** Jitter; `Math.random` when absent. */
  readonly random?: () => number;
  /** Where drivers report what an operator should know (see `ProviderOptions.warn`). */
  readonly warn?: ProviderOptions["warn"];
  /** Told after every listing of every scope: the hook tests wait on instead of sleeping. */
  readonly onCycle?: (event: CycleEvent) => void;
  /**
   * Told once, when every scope of the accounts of the first config has been listed
   * once (or failed): the burst of start-up work is over, and what it left behind
   * (every page of every listing) is garbage that an idle process would keep.
   */
  readonly onFirstListings?: () => void;
}

function lookupSettings({ accountDiscovery: d }: DiscoveryConfig): LookupSettings {
  return { unknownIdCacheMs: d.unknownIdCacheSeconds * 1000, perSecond: d.lookupsPerSecond, burst: d.lookupBurst };
}

/**
 * The process's discovery of the clusters of `accounts`, owned by the server like
 * the audit sink and the metrics, so that it outlives reloads; every service reads
 * its clusters. `configure` applies a config: an account whose entry and
 * credentials entry did not change keeps its pollers and clusters (no re-listing,
 * no gap); a changed one restarts, keeping its last known clusters until its first
 * complete listing of each scope it still has; a removed one stops, and its
 * clusters go. Listings run in the background with bounded concurrency: nothing,
 * readiness included, ever waits for a cloud.
 */
export class AccountDiscovery implements DiscoveredSource {
  private readonly store = new DiscoveredClusters();
  private runs = new Map<string, AccountRun>();
  private readonly slots = new ConcurrencyLimit(1);
  private generation = 0;
  private listingTimeoutMs = 0;
  private closed = false;
  /** The scopes of the first config whose first listing has not ended ("account\u0000scope"); undefined before it. */
  private firstListings: Set<string> | undefined;
  private firstListingsTold = false;

  constructor(private readonly options: AccountDiscoveryOptions) {}

  /** Changes each time a discovered cluster is added, updated or removed. */
  get version(): number {
    return this.store.version;
  }

  get(id: string): RegisteredCluster | undefined {
    return this.store.get(id);
  }

  sorted(): readonly RegisteredCluster[] {
    return this.store.sorted();
  }

  sourceOf(id: string): string | undefined {
    return this.store.entry(id)?.account;
  }

  onChange(listener: (ids: ReadonlySet<string>) => void): () => void {
    return this.store.onChange(listener);
  }

  /** The ids of the discovered clusters of `accounts`. */
  clusterIdsOf(accounts: ReadonlySet<string>): string[] {
    return this.store
      .sorted()
      .filter((cluster) => accounts.has(this.store.entry(cluster.id)?.account ?? ""))
      .map((cluster) => cluster.id);
  }

  /**
   * The cluster `id` names when it parses, by an account's id template, as a
   * cluster of that account in one of its regions, asking the cloud (see
   * `AccountLookups`); undefined when no account's template reads it or no account
   * has it. The caller must have been authorized for the id first.
   */
  async lookup(id: string, signal: AbortSignal): Promise<RegisteredCluster | undefined> {
    for (const run of this.runs.values()) {
      const parsed = run.template.parse(id);
      if (!parsed) continue;
      try {
        const found = await run.lookups.find(id, parsed, signal);
        if (found) return found;
      } catch (err) {
        throw sharedLookupError(err, signal, {
          provider: run.account.provider,
          operation: "cluster lookup",
          metadata: { cluster_id: id, account: run.account.id },
        });
      }
    }
    return undefined;
  }

  /** Applies the accounts and settings of `config` (at start-up, and when a reload is applied). */
  configure(config: DiscoveryConfig): void {
    if (this.closed) return;
    const { logger, observer } = this.options;
    this.listingTimeoutMs = config.accountDiscovery.listingTimeoutSeconds * 1000;
    this.slots.setLimit(config.accountDiscovery.maxConcurrentListings);
    for (const known of this.store.setStaticIds(new Set(config.clusters.map((cluster) => cluster.id)))) {
      logger.info({ account: known.account, cluster_id: known.id, why: "a clusters entry has its id" }, "discovered cluster removed");
    }
    const settings = lookupSettings(config);
    const previous = this.runs;
    const next = new Map<string, AccountRun>();
    const counts = { kept: 0, started: 0, restarted: 0, stopped: 0 };
    for (const account of config.accounts) {
      const credentials = config.credentials[account.credentials];
      const running = previous.get(account.id);
      previous.delete(account.id);
      if (running && isDeepStrictEqual(running.account, account) && isDeepStrictEqual(running.credentials, credentials)) {
        running.lookups.update(settings);
        next.set(account.id, running);
        counts.kept++;
        continue;
      }
      const run = this.newRun(account, credentials, settings);
      if (!run) continue;
      if (running) {
        running.stop();
        const dropped = running.scopes.filter((scope) => !run.scopes.includes(scope));
        run.reportRemoved(this.store.dropAccount(account.id, run.scopes), "the account changed, and its scope went");
        observer?.forget(account.id, dropped);
        counts.restarted++;
      } else counts.started++;
      next.set(account.id, run);
      run.start();
    }
    for (const [id, running] of previous) {
      running.stop();
      running.reportRemoved(this.store.dropAccount(id), "the account was removed from the config");
      observer?.forget(id);
      counts.stopped++;
    }
    this.runs = next;
    if (!this.firstListings) {
      this.firstListings = new Set([...next.values()].flatMap((run) => run.scopes.map((scope) => `${run.account.id}\u0000${scope}`)));
      // Nothing to list: nothing to collect after.
      this.firstListingsTold = this.firstListings.size === 0;
    }
    if (config.accounts.length + counts.stopped > 0) logger.info({ accounts: next.size, ...counts }, "accounts configured");
  }

  /** Notes that a listing ended; tells `onFirstListings` once every first listing of the first config has ended. */
  private listed(event: CycleEvent): void {
    this.options.onCycle?.(event);
    this.firstListings?.delete(`${event.account}\u0000${event.scope}`);
    if (this.firstListingsTold || this.firstListings === undefined || this.firstListings.size > 0) return;
    this.firstListingsTold = true;
    this.options.onFirstListings?.();
  }

  /** Stops every account's pollers and closes their listers; discovered clusters stay readable until the process ends. */
  close(): void {
    this.closed = true;
    for (const run of this.runs.values()) run.stop();
    this.runs.clear();
  }

  private newRun(account: AccountConfig, credentials: unknown, settings: LookupSettings): AccountRun | undefined {
    const { providers, logger } = this.options;
    const provider = providers.find((p) => p.name === account.provider && p.discovery !== undefined);
    if (!provider) {
      // The config's schema accepts only accounts of discovering providers; this is a bug if it happens.
      logger.error({ account: account.id }, "no provider of this build discovers the account's clusters");
      return undefined;
    }
    try {
      return this.buildRun(account, credentials, provider, settings);
    } catch (err) {
      // A provider that cannot build its lister for a validated entry is a bug; the other accounts go on.
      logger.error(
        { account: account.id, error: errorSummary(err, logger) },
        "the account's lister could not be built; its clusters are not discovered",
      );
      return undefined;
    }
  }

  private buildRun(account: AccountConfig, credentials: unknown, provider: DiscoveringProvider, settings: LookupSettings): AccountRun {
    const { logger, observer, upstreamTimeoutMs, clock = systemClock, warn } = this.options;
    return new AccountRun(account, credentials, provider, ++this.generation, settings, {
      store: this.store,
      slots: this.slots,
      scheduler: this.options.scheduler ?? systemScheduler,
      random: this.options.random ?? Math.random,
      clock,
      logger,
      observer,
      providerOptions: { upstreamTimeoutMs, clock, ...(warn ? { warn } : {}) },
      listingTimeoutMs: () => this.listingTimeoutMs,
      onCycle: (event) => this.listed(event),
    });
  }
}
