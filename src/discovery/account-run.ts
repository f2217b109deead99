import type { Logger } from "pino";
import type { z } from "zod";
import type { Clock } from "../common/clock.js";
import type { ConcurrencyLimit } from "../common/concurrency-limit.js";
import type { Scheduler } from "../common/scheduler.js";
import type { AccountConfig } from "../config/config-schema.js";
import { defaultMaxClusters } from "../config/schema-parts.js";
import type { RegisteredCluster } from "../core/registered-cluster.js";
import type { ClusterLister, ListedCluster } from "../drivers/cluster-lister.js";
import type { ProviderDrivers, ProviderOptions } from "../drivers/driver.js";
import { errorStatuses } from "../errors/status-codes.js";
import { errorSummary } from "../logging/logger.js";
import { AccountLookups, type LookupSettings } from "./account-lookups.js";
import { type AdmissionContext, admit, type Candidate, type Refusal } from "./cluster-admission.js";
import type { DiscoveredClusters, KnownCluster } from "./discovered-clusters.js";
import type { DiscoveryObserver } from "./discovery-observer.js";
import { IdTemplate } from "./id-template.js";
import { listingError } from "./listing-error.js";
import { SkipReport } from "./skip-report.js";
import { ScopePoller } from "./scope-poller.js";

/** A provider module as discovery uses it: the cloud's cluster schema, its discovery declaration, and its driver factory. */
export interface DiscoveringProvider {
  readonly name: string;
  readonly clusterSchema: z.ZodType;
  readonly discovery?: { scopes(account: never): readonly string[]; regions?(account: never): readonly string[] | undefined } | undefined;
  create(credentials: Readonly<Record<string, never>>, options: ProviderOptions): ProviderDrivers<never>;
}

/** One listing or lookup finished: what tests wait for instead of sleeping. */
export interface CycleEvent {
  readonly account: string;
  readonly scope: string;
  readonly ok: boolean;
}

/** What every account's discovery shares: the process's store, listing slots, time, and where to report. */
export interface DiscoveryContext {
  readonly store: DiscoveredClusters;
  readonly slots: ConcurrencyLimit;
  readonly scheduler: Scheduler;
  readonly random: () => number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly observer: DiscoveryObserver | undefined;
  readonly providerOptions: ProviderOptions;
  /** The current `accountDiscovery` settings, read at each use so that a reload applies them. */
  readonly listingTimeoutMs: () => number;
  readonly onCycle: ((event: CycleEvent) => void) | undefined;
}

/** How many listed clusters are admitted between two turns of the event loop, so that a large listing never blocks it long. */
const admissionChunk = 500;

/**
 * The discovery of one account: its lister (built from its own credentials entry,
 * so that a service reload never closes it), a poller per scope, its id template,
 * and its lookups of unknown ids. It lives until the account is removed or changed.
 */
export class AccountRun {
  /** Makes its discovered clusters' ids, and reads ids back for lookups. */
  readonly template: IdTemplate;
  /** What its provider lists on its own: regions, projects and locations, subscriptions. */
  readonly scopes: readonly string[];
  /** Its lookups of ids no listing has found. */
  readonly lookups: AccountLookups;
  /** The account's `maxClusters`, or the default. */
  readonly maxClusters: number;
  private readonly drivers: ProviderDrivers<never>;
  private readonly lister: ClusterLister<never> | undefined;
  private readonly pollers: ScopePoller<{ clusters: readonly ListedCluster[]; startedAt: number }>[] = [];
  private readonly admission: AdmissionContext;
  private readonly skips = new SkipReport();

  constructor(
    readonly account: AccountConfig,
    /** The account's credentials entry, as configured: a change of it restarts the account. */
    readonly credentials: unknown,
    provider: DiscoveringProvider,
    generation: number,
    lookupSettings: LookupSettings,
    private readonly context: DiscoveryContext,
  ) {
    this.maxClusters = account.maxClusters ?? defaultMaxClusters;
    const discovery = provider.discovery;
    this.scopes = discovery?.scopes(account as never) ?? [];
    const regions = discovery?.regions?.(account as never);
    this.template = new IdTemplate(account.idTemplate, account.id, regions);
    this.drivers = provider.create({ [account.credentials]: credentials as never }, context.providerOptions);
    this.lister = this.drivers.lister;
    this.admission = { account, template: this.template, clusterSchema: provider.clusterSchema, generation };
    this.lookups = new AccountLookups(
      {
        account: account.id,
        find: (id, parsed, signal) => this.find(id, parsed.name, parsed.region, signal),
        clock: context.clock,
        attemptTimeoutMs: context.providerOptions.upstreamTimeoutMs,
        observe: (result) => context.observer?.lookup(account.id, result),
      },
      lookupSettings,
    );
  }

  /** Starts a poller per scope; each lists at once, in the background. */
  start(): void {
    const { lister } = this;
    if (!lister) {
      this.context.logger.error({ account: this.account.id }, "the account's provider built no lister; its clusters are not discovered");
      for (const scope of this.scopes) this.context.onCycle?.({ account: this.account.id, scope, ok: false });
      return;
    }
    const { slots, scheduler, random, clock, listingTimeoutMs } = this.context;
    for (const scope of this.scopes) {
      const poller = new ScopePoller({
        pollMs: this.account.pollSeconds * 1000,
        listingTimeoutMs,
        slots,
        scheduler,
        random,
        list: async (signal) => {
          const startedAt = clock.now();
          return { clusters: await lister.listScope(this.account as never, scope, signal), startedAt };
        },
        listed: (listing, signal) => this.listed(scope, listing.clusters, listing.startedAt, signal),
        failed: (err) => this.failed(scope, err),
        done: (ok) => this.context.onCycle?.({ account: this.account.id, scope, ok }),
      });
      this.pollers.push(poller);
      poller.start();
    }
  }

  /** Stops every poller (a listing under way is abandoned) and closes the lister's clients. */
  stop(): void {
    for (const poller of this.pollers) poller.stop();
    this.drivers.close?.();
  }

  /** Reports clusters removed from the store for this account (a changed config, a configured id). */
  reportRemoved(removed: readonly KnownCluster[], why: string): void {
    for (const known of removed) {
      this.context.logger.info({ account: known.account, scope: known.scope, cluster_id: known.id, why }, "discovered cluster removed");
    }
  }

  private async listed(scope: string, listed: readonly ListedCluster[], startedAt: number, signal: AbortSignal): Promise<void> {
    const { store, observer, clock, logger } = this.context;
    const candidates: Candidate[] = [];
    const refused: Refusal[] = [];
    let labelsDropped = 0;
    for (let i = 0; i < listed.length; i++) {
      if (i > 0 && i % admissionChunk === 0) await new Promise((resolve) => setImmediate(resolve));
      const cluster = listed[i] as ListedCluster;
      const known = store.entry(this.template.render(cluster.name, cluster.region));
      const result = admit(cluster, this.admission, known?.account === this.account.id ? known : undefined);
      if (result === undefined) continue;
      if ("reason" in result) refused.push(result);
      else {
        candidates.push(result);
        labelsDropped += result.labelsDropped;
      }
    }
    signal.throwIfAborted();
    const changes = store.applyListing(this.account.id, scope, this.scopes, candidates, startedAt, this.maxClusters);
    for (const known of changes.added) logger.info({ account: known.account, scope, cluster_id: known.id }, "discovered cluster added");
    this.reportRemoved(changes.removed, "no longer listed");
    const skipped = [...refused, ...changes.skipped];
    this.skips.report(logger, this.account.id, scope, skipped, listed.length, this.maxClusters);
    observer?.skipped(this.account.id, scope, SkipReport.counts(skipped), labelsDropped);
    observer?.listingSucceeded(this.account.id, scope, changes.known, clock.now());
  }

  private failed(scope: string, err: unknown): void {
    const error = listingError(err, this.account, scope);
    this.context.observer?.listingFailed(this.account.id, scope, errorStatuses[error.code].go, error.reason);
    this.context.logger.warn(
      { account: this.account.id, scope, reason: error.reason, error: errorSummary(err, this.context.logger) },
      "listing the account's clusters failed; its last known clusters stay",
    );
  }

  /** Looks one cluster up and registers it at once when it is the cluster with the id asked for. */
  private async find(id: string, name: string, region: string, signal: AbortSignal): Promise<RegisteredCluster | undefined> {
    const listed = await this.lister?.lookup(this.account as never, name, region, signal);
    if (!listed || signal.aborted) return undefined;
    const result = admit(listed, this.admission);
    if (result === undefined || "reason" in result || result.id !== id) return undefined;
    const outcome = this.context.store.registerFound(this.account.id, this.scopes, result, this.context.clock.now(), this.maxClusters);
    if (outcome === "added")
      this.context.logger.info({ account: this.account.id, cluster_id: id, via: "lookup" }, "discovered cluster added");
    else if (outcome !== "known") return undefined;
    return this.context.store.get(id);
  }
}
