import { RateLimiter } from "../auth/rate-limiter.js";
import type { Clock } from "../common/clock.js";
import { TtlCache } from "../common/ttl-cache.js";
import type { RegisteredCluster } from "../core/registered-cluster.js";
import { ServiceError } from "../errors/service-error.js";
import type { ParsedId } from "./id-template.js";

/** The most unknown ids each account remembers; the oldest are forgotten first. */
export const maxUnknownIds = 10_000;

/** How lookups of unknown ids are bounded; the `accountDiscovery` keys of the config. */
export interface LookupSettings {
  /** How long an id a lookup did not find is answered without asking again. */
  readonly unknownIdCacheMs: number;
  /** Lookups per second each account may make, sustained. */
  readonly perSecond: number;
  /** Lookups each account may make at once after being idle. */
  readonly burst: number;
}

/** What became of one lookup, for the metrics. */
export type LookupResult = "found" | "not_found" | "unknown_id_cached" | "throttled" | "failed";

/** Options of {@link AccountLookups}. */
export interface AccountLookupsOptions {
  readonly account: string;
  /**
   * Asks the cloud for the cluster `parsed` names and registers it when it is the
   * cluster with the id asked for; resolves undefined when there is none. One bounded
   * attempt that stops when `signal` aborts.
   */
  readonly find: (id: string, parsed: ParsedId, signal: AbortSignal) => Promise<RegisteredCluster | undefined>;
  readonly clock: Clock;
  /** How long one lookup may take, whoever waits for it. */
  readonly attemptTimeoutMs: number;
  /** Told what became of each lookup. */
  readonly observe: (result: LookupResult) => void;
}

/**
 * The lookups of one account's unknown ids: a freshly created cluster is tokenable
 * before the next poll, while random ids cannot become a flood of cloud calls.
 * Concurrent requests for one id share one attempt; an id not found is answered
 * from memory for `unknownIdCacheMs` (at most {@link maxUnknownIds} ids); and
 * attempts are rate-limited per account (a token bucket of `burst`, refilled at
 * `perSecond`), so that any number of requests for unknown ids within T seconds
 * makes at most `burst + perSecond × T` calls to the cloud. A request over the limit
 * is UNAVAILABLE `LOOKUP_THROTTLED`, never a silent NOT_FOUND.
 */
export class AccountLookups {
  private readonly answers: TtlCache<string, { readonly cluster?: RegisteredCluster }>;
  private settings: LookupSettings;
  private limiter: RateLimiter;

  constructor(
    private readonly options: AccountLookupsOptions,
    settings: LookupSettings,
  ) {
    this.answers = new TtlCache({ maxEntries: maxUnknownIds, attemptTimeoutMs: options.attemptTimeoutMs, clock: options.clock });
    this.settings = settings;
    this.limiter = this.newLimiter();
  }

  /** Applies new settings (a reload); the rate limit starts afresh only when it changed. */
  update(settings: LookupSettings): void {
    const limitChanged = settings.perSecond !== this.settings.perSecond || settings.burst !== this.settings.burst;
    this.settings = settings;
    if (limitChanged) this.limiter = this.newLimiter();
  }

  /**
   * The cluster `id` names (read back as `parsed`), asking the cloud unless the id
   * was not found a moment ago. Rejects with the lookup's failure, LOOKUP_THROTTLED,
   * or `signal.reason` once the caller's signal aborts.
   */
  async find(id: string, parsed: ParsedId, signal: AbortSignal): Promise<RegisteredCluster | undefined> {
    const { observe, clock } = this.options;
    const known = this.answers.fresh(id);
    if (known) {
      observe("unknown_id_cached");
      return known.cluster;
    }
    try {
      const answer = await this.answers.get(id, signal, async (attemptSignal) => {
        const taken = this.limiter.take(this.options.account);
        if (!taken.ok) throw this.throttled(taken.retryAfterMs);
        const cluster = await this.options.find(id, parsed, attemptSignal);
        // Found clusters are registered, not cached here; unknown ids are, for a while.
        return cluster ? { value: { cluster }, expiresAt: 0 } : { value: {}, expiresAt: clock.now() + this.settings.unknownIdCacheMs };
      });
      observe(answer.cluster ? "found" : "not_found");
      return answer.cluster;
    } catch (err) {
      observe(err instanceof ServiceError && err.reason === "LOOKUP_THROTTLED" ? "throttled" : "failed");
      throw err;
    }
  }

  private newLimiter(): RateLimiter {
    const { perSecond, burst } = this.settings;
    return new RateLimiter({ requestsPerSecond: perSecond, burst }, () => this.options.clock.now());
  }

  private throttled(retryAfterMs: number): ServiceError {
    return new ServiceError({
      reason: "LOOKUP_THROTTLED",
      message: `account ${this.options.account} has made as many lookups of unknown cluster ids as it may for now; retry later`,
      metadata: { account: this.options.account, retry_after_ms: String(retryAfterMs) },
    });
  }
}
