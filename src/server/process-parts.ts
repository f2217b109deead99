import { AuditLog } from "../audit/audit-log.js";
import type { ServiceConfig } from "../config/config-schema.js";
import { AccountDiscovery, type AccountDiscoveryOptions } from "../discovery/account-discovery.js";
import { stdoutWriter } from "../logging/line-writer.js";
import { ServiceMetrics } from "../metrics/service-metrics.js";
import { providers } from "../providers.js";
import type { ServiceOptions } from "../service.js";
import { SecretReferenceCheck } from "./secret-check.js";

/** The account discovery's providers, timers and cycle hook (tests), and what to do once the first listings have ended. */
export type DiscoveryOptions = Partial<Pick<AccountDiscoveryOptions, "providers" | "scheduler" | "random" | "onCycle" | "onFirstListings">>;

/**
 * What the process owns for its whole life, across reloads: every service built from
 * a config writes to the same metrics and audit sink and reads the same account
 * discovery, so that a reload loses no count, no audit line and no listing; the
 * secret-reference check follows each config applied.
 */
export interface ProcessParts {
  readonly metrics: ServiceMetrics;
  readonly audit: AuditLog;
  readonly discovery: AccountDiscovery;
  readonly secrets: SecretReferenceCheck;
  /** Stops the timers that watch the clouds and the secrets; the audit sink closes on its own, last. */
  stopWatching(): void;
}

/** Opens the {@link ProcessParts} for `config`: the audit file is opened here, so that a start-up that cannot write it fails. */
export function openProcessParts(
  config: ServiceConfig,
  { logger, clock, discoveryOptions }: Pick<ServiceOptions, "logger" | "clock"> & { discoveryOptions?: DiscoveryOptions },
): ProcessParts {
  // Process metrics (a GC observer, an event-loop delay monitor) only when something can scrape them.
  const metrics = new ServiceMetrics({ defaultMetrics: config.listen.metrics !== undefined });
  metrics.exposeTotal("cluster_token_log_lines_dropped_total", "Log lines dropped because standard output stayed stalled.", () => {
    return stdoutWriter().stats.dropped;
  });
  const audit = AuditLog.open(config.audit.file, {
    commitTimeoutMs: config.audit.commitTimeoutSeconds * 1000,
    observer: { written: (seconds) => metrics.auditWritten(seconds), failed: () => metrics.auditFailed() },
  });
  // Lists in the background from its first configure on: neither serving nor readiness waits for a cloud.
  const discovery = new AccountDiscovery({
    providers,
    ...discoveryOptions,
    logger,
    observer: metrics.discovery,
    upstreamTimeoutMs: config.limits.upstreamTimeoutSeconds * 1000,
    ...(clock ? { clock } : {}),
    warn: (fields, message) => logger.warn(fields, message),
  });
  // Secrets that cannot be resolved are named as soon as configured and as they change, not at the first call.
  const secrets = new SecretReferenceCheck({ logger, report: (counts) => metrics.secretReferencesChecked(counts) });
  return {
    metrics,
    audit,
    discovery,
    secrets,
    stopWatching: () => {
      secrets.close();
      discovery.close();
    },
  };
}
