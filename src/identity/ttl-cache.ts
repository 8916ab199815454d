// SPDX-License-Identifier: Apache-2.0
/** A small read-through cache for directory answers. */

/** Options of {@link TtlCache}. */
export interface TtlCacheOptions {
  /** How long a found value is served, in milliseconds; 0 disables caching of values. */
  ttlMs: number;
  /** How long "not found" (`undefined`) is served, in milliseconds; 0 disables it. */
  negativeTtlMs: number;
  /** Most entries kept; the oldest are dropped first. Default 10 000. */
  maxEntries?: number;
  /** Milliseconds since the epoch; injectable for tests. Default `Date.now`. */
  now?: () => number;
}

interface Flight<V> {
  promise: Promise<V | undefined>;
}

interface Entry<V> {
  value: V | undefined;
  expiresAt: number;
}

/**
 * Caches the result of an asynchronous load per key.
 *
 * Guarantees:
 * - a value is served until `ttlMs` after it was loaded, an `undefined` result until
 *   `negativeTtlMs` after; after that the next {@link get} loads again;
 * - concurrent {@link get}s of a key share one load (single flight), and all of them see
 *   its result or its error;
 * - errors are never cached: the next {@link get} after a failed load tries again;
 * - after {@link invalidate}, no load that started before it stores its result.
 *
 * Caveats: expiry is checked on read; expired entries stay in memory until read, overwritten
 * or pushed out by `maxEntries`.
 */
export class TtlCache<K, V> {
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly entries = new Map<K, Entry<V>>();
  private readonly inFlight = new Map<K, Flight<V>>();

  constructor(options: TtlCacheOptions) {
    this.ttlMs = options.ttlMs;
    this.negativeTtlMs = options.negativeTtlMs;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** The cached answer for `key`, or the result of `load` (shared with concurrent callers). */
  get(key: K, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const cached = this.entries.get(key);
    if (cached && cached.expiresAt > this.now()) return Promise.resolve(cached.value);
    const pending = this.inFlight.get(key);
    if (pending) return pending.promise;
    const flight = {} as Flight<V>;
    flight.promise = this.run(key, flight, load);
    this.inFlight.set(key, flight);
    return flight.promise;
  }

  /** Forgets `key`, or every key when called without one. */
  invalidate(key?: K): void {
    if (key === undefined) {
      this.entries.clear();
      this.inFlight.clear();
      return;
    }
    this.entries.delete(key);
    this.inFlight.delete(key);
  }

  /** Number of stored answers, fresh or expired. */
  get size(): number {
    return this.entries.size;
  }

  private async run(key: K, flight: Flight<V>, load: () => Promise<V | undefined>): Promise<V | undefined> {
    try {
      // Yield once so that `flight` is registered before `load` runs, even if it throws at once.
      await undefined;
      const value = await load();
      if (this.inFlight.get(key) === flight) this.store(key, value);
      return value;
    } finally {
      if (this.inFlight.get(key) === flight) this.inFlight.delete(key);
    }
  }

  private store(key: K, value: V | undefined): void {
    const ttl = value === undefined ? this.negativeTtlMs : this.ttlMs;
    this.entries.delete(key);
    if (ttl <= 0) return;
    this.entries.set(key, { value, expiresAt: this.now() + ttl });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }
}
