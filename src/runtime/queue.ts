// SPDX-License-Identifier: Apache-2.0
import { systemClock, type Clock, type Timer } from './clock.ts';
import { defaultRateLimiter, type RateLimiter } from './rate-limiter.ts';

/** Options of {@link WorkQueue}. */
export interface WorkQueueOptions {
  readonly clock?: Clock;
  /** Default: {@link defaultRateLimiter} on the same clock. */
  readonly rateLimiter?: RateLimiter;
  /** Told how long each key handed out waited, in ms, from the add that queued it to the worker taking it. */
  readonly onWait?: (waitedMs: number) => void;
}

/**
 * Why a key is queued, in the order keys are handed out:
 * - `followUp`: a change of something the object owns or waits for, or a requeue it asked for: work in course;
 * - `change`: the object itself changed (a new object, an edit, a retry after an error);
 * - `resync`: the periodic or initial pass over every object, which normally finds nothing to do.
 */
export type Lane = 'followUp' | 'change' | 'resync';

const LANES: readonly Lane[] = ['followUp', 'change', 'resync'];
const RANK: Readonly<Record<Lane, number>> = { followUp: 0, change: 1, resync: 2 };

/**
 * A keyed, de-duplicating work queue with client-go semantics (`workqueue.TypedRateLimitingInterface`).
 *
 * Guarantees:
 * - A key is queued at most once (the *dirty* set); adding it again before a worker takes it is a no-op.
 * - A key is handed to at most one worker at a time (the *processing* set). A key added while it is being
 *   processed is queued again when `done(key)` is called, so the change that caused the add is always seen
 *   by a run that starts after the add.
 * - Keys are handed out by {@link Lane}: every `followUp` key before any `change` key before any `resync` key;
 *   within a lane, in the order they were queued there. Adding a queued key in a better lane moves it there
 *   (a periodic resync never delays a new object behind ten thousand unchanged ones).
 * - `addAfter` keeps one pending timer per key; the earliest requested time wins, and the key is added in the
 *   best lane any of its requests asked for.
 * - After `shutDown()` nothing is queued any more, `get()` returns `undefined` at once and queued keys are
 *   dropped; in-flight keys may still call `done`, and `drain()` resolves when none is left.
 *
 * Assumptions: every key returned by `get()` is passed to `done()` exactly once.
 * Caveats: unlike client-go, `shutDown` does not hand out the keys still queued: on shutdown the next
 * process (or leader) relists and reconciles everything anyway. A steady stream of `followUp` keys delays
 * `change` keys; callers put there only work that ends (a start in course, a requested requeue).
 */
export class WorkQueue {
  readonly #clock: Clock;
  readonly #limiter: RateLimiter;
  /** One FIFO per lane; an entry is live while `#queued` holds its key with the same sequence number. */
  readonly #lanes: Record<Lane, Fifo<{ key: string; seq: number }>> = { followUp: new Fifo(), change: new Fifo(), resync: new Fifo() };
  readonly #queued = new Map<string, { lane: Lane; seq: number }>();
  #seq = 0;
  /** The lane of each dirty key (queued, or to be queued again when its run is done). */
  readonly #dirty = new Map<string, Lane>();
  readonly #processing = new Set<string>();
  readonly #waiting = new Map<string, { at: number; timer: Timer; lane: Lane }>();
  /** When each dirty key was added (also while it is processed: its wait includes that run). */
  readonly #addedAt = new Map<string, number>();
  readonly #onWait: ((waitedMs: number) => void) | undefined;
  #getters: Array<(key: string | undefined) => void> = [];
  #drainers: Array<() => void> = [];
  #shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#limiter = options.rateLimiter ?? defaultRateLimiter({ clock: this.#clock });
    this.#onWait = options.onWait;
  }

  /**
   * Queues `key` in `lane` (default `change`) unless it is already queued there or in a better lane; a key
   * queued in a worse lane moves to this one. See the class guarantees for keys being processed.
   */
  add(key: string, lane: Lane = 'change'): void {
    if (this.#shuttingDown) return;
    const dirty = this.#dirty.get(key);
    if (dirty !== undefined && RANK[dirty] <= RANK[lane]) return;
    this.#dirty.set(key, lane);
    if (dirty === undefined) this.#addedAt.set(key, this.#clock.now());
    if (!this.#processing.has(key)) this.#enqueue(key, lane);
  }

  /**
   * Queues `key` in `lane` after `ms`; when a timer for the key is already pending, the earlier time is kept
   * and the better lane of the two.
   */
  addAfter(key: string, ms: number, lane: Lane = 'change'): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) {
      this.add(key, lane);
      return;
    }
    const at = this.#clock.now() + ms;
    const pending = this.#waiting.get(key);
    const best = pending && RANK[pending.lane] < RANK[lane] ? pending.lane : lane;
    if (pending && pending.at <= at) {
      pending.lane = best;
      return;
    }
    pending?.timer.cancel();
    const timer = this.#clock.after(ms, () => {
      const entry = this.#waiting.get(key);
      this.#waiting.delete(key);
      this.add(key, entry?.lane ?? best);
    });
    this.#waiting.set(key, { at, timer, lane: best });
  }

  /** Queues `key` in the `change` lane after the rate limiter's delay (per-key backoff under the overall bucket). */
  addRateLimited(key: string): void {
    this.addAfter(key, this.#limiter.when(key));
  }

  /** Resets the key's backoff; call it when the key succeeded. Pending timers are kept. */
  forget(key: string): void {
    this.#limiter.forget(key);
  }

  /** Retries of `key` since its last `forget`. */
  numRequeues(key: string): number {
    return this.#limiter.numRequeues(key);
  }

  /** The next key to process, waiting for one if needed; `undefined` once the queue is shut down. */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#next();
    if (key === undefined) return new Promise((resolve) => this.#getters.push(resolve));
    this.#take(key);
    return Promise.resolve(key);
  }

  /** Marks `key` as no longer processed; re-queues it when it was added in the meantime. */
  done(key: string): void {
    this.#processing.delete(key);
    const lane = this.#dirty.get(key);
    if (lane !== undefined && !this.#shuttingDown) this.#enqueue(key, lane);
    if (this.#processing.size === 0) {
      const drainers = this.#drainers;
      this.#drainers = [];
      for (const resolve of drainers) resolve();
    }
  }

  /** Keys queued and not yet handed out (the queue depth), in every lane or in one. */
  len(lane?: Lane): number {
    if (lane === undefined) return this.#queued.size;
    let n = 0;
    for (const entry of this.#queued.values()) if (entry.lane === lane) n++;
    return n;
  }

  /** Keys handed out and not yet `done`. */
  processing(): number {
    return this.#processing.size;
  }

  /** Keys waiting for an `addAfter` timer. */
  waiting(): number {
    return this.#waiting.size;
  }

  /** True after `shutDown()`. */
  isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Stops accepting keys, drops queued keys and pending timers, and wakes every waiting `get()`. */
  shutDown(): void {
    this.#shuttingDown = true;
    for (const { timer } of this.#waiting.values()) timer.cancel();
    this.#waiting.clear();
    for (const lane of LANES) this.#lanes[lane].clear();
    this.#queued.clear();
    this.#dirty.clear();
    this.#addedAt.clear();
    const getters = this.#getters;
    this.#getters = [];
    for (const resolve of getters) resolve(undefined);
  }

  /** Resolves once no key is being processed (at once when none is). */
  drain(): Promise<void> {
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainers.push(resolve));
  }

  #enqueue(key: string, lane: Lane): void {
    const getter = this.#getters.shift();
    if (getter === undefined) {
      const seq = ++this.#seq;
      this.#queued.set(key, { lane, seq });
      this.#lanes[lane].push({ key, seq });
      return;
    }
    this.#take(key);
    getter(key);
  }

  /** Shifts the first live entry of the best non-empty lane; entries of keys moved or taken are dropped. */
  #next(): string | undefined {
    for (const lane of LANES) {
      const fifo = this.#lanes[lane];
      for (let entry = fifo.shift(); entry !== undefined; entry = fifo.shift()) {
        if (this.#queued.get(entry.key)?.seq === entry.seq) return entry.key;
      }
    }
    return undefined;
  }

  #take(key: string): void {
    this.#queued.delete(key);
    this.#dirty.delete(key);
    this.#processing.add(key);
    const addedAt = this.#addedAt.get(key);
    this.#addedAt.delete(key);
    if (addedAt !== undefined) this.#onWait?.(this.#clock.now() - addedAt);
  }
}

/** A first-in first-out list with O(1) amortized `shift` (an array shift moves every element). */
class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head++];
    if (this.#head === this.#items.length) this.clear();
    else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}
