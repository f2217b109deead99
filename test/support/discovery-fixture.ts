import type { ServiceConfig } from "../../src/config/config-schema.js";
import { AccountDiscovery } from "../../src/discovery/account-discovery.js";
import { ServiceError } from "../../src/errors/service-error.js";
import { createLogger } from "../../src/logging/logger.js";
import { ServiceMetrics } from "../../src/metrics/service-metrics.js";
import { providers } from "../../src/providers.js";
import { CycleLog } from "./discovery-cycles.js";
import { FakeScheduler } from "./fake-scheduler.js";
import { configWithAccounts, discoveringProviders, InMemoryCloud } from "./in-memory-lister.js";
import { LogCapture } from "./log-capture.js";
import { rawTestConfig, testCaData } from "./test-config.js";

/** A raw config with `accounts` of the in-memory cloud and no configured clusters unless given. */
export function rawAccountsConfig(accounts: Record<string, unknown>[], more: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...rawTestConfig(), clusters: [], accounts: accounts.map((a) => ({ provider: "aws", credentials: "aws-test", ...a })), ...more };
}

/** A cluster of the in-memory cloud with its endpoint and CA, so that nothing else is asked for. */
export function withAccess(name: string, tags: Record<string, string> = {}) {
  return { name, tags, endpoint: `https://${name}.example.com`, certificateAuthorityData: testCaData };
}

/** A portable failure as a lister rejects with one. */
export function listingFailure(reason: ServiceError["reason"]): ServiceError {
  return new ServiceError({ reason, message: `aws cluster listing failed (${reason})`, metadata: { provider: "aws" } });
}

/**
 * Account discovery over the in-memory cloud, on a fake scheduler and clock, with
 * its logs and metrics captured: `start` applies a config and runs the first
 * listings; `poll` moves time and waits for the listings it starts.
 */
export class DiscoveryFixture {
  readonly cloud = new InMemoryCloud();
  readonly scheduler = new FakeScheduler();
  readonly cycles = new CycleLog();
  readonly logs = new LogCapture();
  readonly metrics = new ServiceMetrics({ defaultMetrics: false });
  readonly discovery: AccountDiscovery;
  /** How often discovery said its first listings had ended. */
  firstListingsEnded = 0;

  constructor(options: { upstreamTimeoutMs?: number } = {}) {
    this.discovery = new AccountDiscovery({
      providers: discoveringProviders(this.cloud),
      logger: createLogger({ level: "debug", destination: this.logs, providers }),
      observer: this.metrics.discovery,
      upstreamTimeoutMs: options.upstreamTimeoutMs ?? 1_000,
      clock: this.scheduler.clock,
      scheduler: this.scheduler,
      random: () => 0.5,
      onCycle: this.cycles.record,
      onFirstListings: () => this.firstListingsEnded++,
    });
  }

  config(accounts: Record<string, unknown>[], more: Record<string, unknown> = {}): ServiceConfig {
    return configWithAccounts(this.cloud, rawAccountsConfig(accounts, more));
  }

  /** Applies `config` and waits for `listings` listings (the first of each scope) to end. */
  async start(config: ServiceConfig, listings: number): Promise<void> {
    this.discovery.configure(config);
    await this.poll(0, listings);
  }

  /** Moves time by `ms` and waits for `listings` more listings to end. */
  async poll(ms: number, listings: number): Promise<void> {
    const ended = this.cycles.next(listings);
    this.scheduler.advance(ms);
    await ended;
  }

  ids(): string[] {
    return this.discovery.sorted().map((c) => c.id);
  }

  /** The log records with message `msg`. */
  lines(msg: string): Record<string, unknown>[] {
    return this.logs.records().filter((r) => r.msg === msg);
  }

  /** The value of the metric series whose name and labels match `series` (a regular expression's source), or undefined. */
  async metric(series: string): Promise<number | undefined> {
    const m = new RegExp(`^${series} (\\S+)$`, "m").exec(await this.metrics.scrape());
    return m ? Number(m[1]) : undefined;
  }

  close(): void {
    this.discovery.close();
  }
}
