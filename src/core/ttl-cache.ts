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
  /** The clock, in ms since the epoch; tests pin it. */
  now?: () => number;
  /** Which reload failures an expired value may stand in for: the cloud down, not the value gone. */
  serveStaleOn?: (err: unknown) => boolean;
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
  private readonly now: () => number;
  private readonly serveStaleOn: (err: unknown) => boolean;
  private readonly onStale: ((key: K, err: unknown) => void) | undefined;

  constructor({ maxEntries, attemptTimeoutMs, now = Date.now, serveStaleOn = () => false, onStale }: TtlCacheOptions<K>) {
    this.flights = new SingleFlight({ attemptTimeoutMs });
    this.maxEntries = maxEntries;
    this.now = now;
    this.serveStaleOn = serveStaleOn;
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
    if (entry !== undefined && entry.expiresAt > this.now()) return entry.value;
    try {
      const loaded = await this.flights.run(key, signal, async (attemptSignal) => {
        const fresh = await load(attemptSignal);
        if (fresh.expiresAt > this.now() || (fresh.staleUntil ?? 0) > this.now()) this.store(key, fresh);
        return fresh;
      });
      return loaded.value;
    } catch (err) {
      const stale = this.entries.get(key) ?? entry;
      if (!signal.aborted && stale?.staleUntil !== undefined && stale.staleUntil > this.now() && this.serveStaleOn(err)) {
        this.onStale?.(key, err);
        return stale.value;
      }
      throw err;
    }
  }

  /** The value of `key` while it is fresh, else undefined; never loads, never waits. */
  fresh(key: K): V | undefined {
    const entry = this.entries.get(key);
    return entry !== undefined && entry.expiresAt > this.now() ? entry.value : undefined;
  }

  /** The value last stored for `key`, fresh or not; never loads. */
  peek(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** How many entries are stored. */
  get size(): number {
    return this.entries.size;
  }

  private store(key: K, entry: Expiring<V>): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, entry);
  }
}
