import { type Clock, systemClock } from "./clock.js";
import { SingleFlight } from "./single-flight.js";

/** A value and the instant (ms since the epoch) after which it is no longer served fresh. */
export interface Expiring<V> {
  readonly value: V;
  readonly expiresAt: number;
  /**
   * Until when the value may still be served after it expired, if reloading it
   * fails in a way `serveStaleOn` accepts (stale-if-error). Absent: never.
   */
  readonly staleUntil?: number;
}

/** Options of {@link TtlCache}. */
export interface TtlCacheOptions<K = unknown> {
  /** The most entries kept; the least recently stored is dropped first. */
  maxEntries: number;
  /** How long one shared load may run; see {@link SingleFlight}. */
  attemptTimeoutMs: number;
  /** The clock expiry is read from; the system clock when absent. */
  clock?: Clock;
  /** Which reload failures an expired value may stand in for: the source down, not the value gone. */
  serveStaleOn?: (err: unknown) => boolean;
  /**
   * Which reload failures end the stored value's life at once, fresh or stale: the
   * source said the value is gone or refused it. Until a load succeeds again, the
   * value is neither served stale nor shown by {@link TtlCache.usable}.
   */
  forgetOn?: (err: unknown) => boolean;
  /** Told each time an expired value is served because its reload failed. */
  onStale?: (key: K, err: unknown) => void;
}

/**
 * A size-bounded cache of values that expire, loaded on a miss by one shared attempt
 * per key ({@link SingleFlight}). Each caller keeps its own deadline, and failures
 * are never cached: the next caller after a failure loads afresh.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, Expiring<V>>();
  private readonly flights: SingleFlight<K, Expiring<V>>;
  private readonly maxEntries: number;
  private readonly clock: Clock;
  private readonly serveStaleOn: (err: unknown) => boolean;
  private readonly forgetOn: (err: unknown) => boolean;
  private readonly onStale: ((key: K, err: unknown) => void) | undefined;

  constructor({
    maxEntries,
    attemptTimeoutMs,
    clock = systemClock,
    serveStaleOn = () => false,
    forgetOn = () => false,
    onStale,
  }: TtlCacheOptions<K>) {
    this.flights = new SingleFlight({ attemptTimeoutMs });
    this.maxEntries = maxEntries;
    this.clock = clock;
    this.serveStaleOn = serveStaleOn;
    this.forgetOn = forgetOn;
    this.onStale = onStale;
  }

  /**
   * The fresh value of `key`, or the one `load` produces. `load` runs at most once at
   * a time per key, with a signal of its own that aborts when it outlives the attempt
   * timeout or every caller has given up. Rejects with `signal.reason` when the
   * caller's signal aborts first.
   */
  async get(key: K, signal: AbortSignal, load: (signal: AbortSignal) => Promise<Expiring<V>>): Promise<V> {
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.expiresAt > this.clock.now()) return entry.value;
    try {
      const loaded = await this.flights.run(key, signal, async (attemptSignal) => {
        let fresh: Expiring<V>;
        try {
          fresh = await load(attemptSignal);
        } catch (err) {
          // Once per attempt, before any of its callers looks for a stale value.
          if (this.forgetOn(err)) this.entries.delete(key);
          throw err;
        }
        this.put(key, fresh);
        return fresh;
      });
      return loaded.value;
    } catch (err) {
      const stale = this.entries.get(key);
      if (!signal.aborted && stale?.staleUntil !== undefined && stale.staleUntil > this.clock.now() && this.serveStaleOn(err)) {
        this.onStale?.(key, err);
        return stale.value;
      }
      throw err;
    }
  }

  /** The value of `key` while it is fresh, else undefined; never loads, never waits. */
  fresh(key: K): V | undefined {
    const entry = this.entries.get(key);
    return entry !== undefined && entry.expiresAt > this.clock.now() ? entry.value : undefined;
  }

  /**
   * The value of `key` while it may still be served: fresh, or within its stale
   * window (what {@link get} would fall back on). Never loads, never waits.
   */
  usable(key: K): V | undefined {
    const entry = this.entries.get(key);
    return entry !== undefined && usableUntil(entry) > this.clock.now() ? entry.value : undefined;
  }

  /** The entry stored for `key`, whatever its age: for a cache that takes over from this one. */
  entry(key: K): Expiring<V> | undefined {
    return this.entries.get(key);
  }

  /** Stores `entry` for `key`, unless it can no longer be served at all. */
  put(key: K, entry: Expiring<V>): void {
    if (usableUntil(entry) <= this.clock.now()) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, entry);
  }

  /** Drops every entry whose key `matches`; loads in flight still store what they return. */
  deleteWhere(matches: (key: K) => boolean): void {
    for (const key of this.entries.keys()) if (matches(key)) this.entries.delete(key);
  }
}

/** The last instant an entry may be served: the end of its stale window, or its expiry when it has none. */
function usableUntil(entry: Expiring<unknown>): number {
  return Math.max(entry.expiresAt, entry.staleUntil ?? 0);
}
