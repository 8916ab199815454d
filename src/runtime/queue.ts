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
 * A keyed, de-duplicating work queue with client-go semantics (`workqueue.TypedRateLimitingInterface`).
 *
 * Guarantees:
 * - A key is queued at most once (the *dirty* set); adding it again before a worker takes it is a no-op.
 * - A key is handed to at most one worker at a time (the *processing* set). A key added while it is being
 *   processed is queued again when `done(key)` is called, so the change that caused the add is always seen
 *   by a run that starts after the add.
 * - Keys are handed out in the order they were (first) queued.
 * - `addAfter` keeps one pending timer per key; the earliest requested time wins.
 * - After `shutDown()` nothing is queued any more, `get()` returns `undefined` at once and queued keys are
 *   dropped; in-flight keys may still call `done`, and `drain()` resolves when none is left.
 *
 * Assumptions: every key returned by `get()` is passed to `done()` exactly once.
 * Caveats: unlike client-go, `shutDown` does not hand out the keys still queued: on shutdown the next
 * process (or leader) relists and reconciles everything anyway.
 */
export class WorkQueue {
  readonly #clock: Clock;
  readonly #limiter: RateLimiter;
  readonly #queue: string[] = [];
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #waiting = new Map<string, { at: number; timer: Timer }>();
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

  /** Queues `key` unless it is already queued; see the class guarantees for keys being processed. */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    this.#addedAt.set(key, this.#clock.now());
    if (!this.#processing.has(key)) this.#enqueue(key);
  }

  /** Queues `key` after `ms`; when a timer for the key is already pending, the earlier of the two is kept. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.#clock.now() + ms;
    const pending = this.#waiting.get(key);
    if (pending && pending.at <= at) return;
    pending?.timer.cancel();
    const timer = this.#clock.after(ms, () => {
      this.#waiting.delete(key);
      this.add(key);
    });
    this.#waiting.set(key, { at, timer });
  }

  /** Queues `key` after the rate limiter's delay (per-key backoff under the overall bucket). */
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
    const key = this.#queue.shift();
    if (key === undefined) return new Promise((resolve) => this.#getters.push(resolve));
    this.#take(key);
    return Promise.resolve(key);
  }

  /** Marks `key` as no longer processed; re-queues it when it was added in the meantime. */
  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key) && !this.#shuttingDown) this.#enqueue(key);
    if (this.#processing.size === 0) {
      const drainers = this.#drainers;
      this.#drainers = [];
      for (const resolve of drainers) resolve();
    }
  }

  /** Keys queued and not yet handed out (the queue depth). */
  len(): number {
    return this.#queue.length;
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
    this.#queue.length = 0;
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

  #enqueue(key: string): void {
    const getter = this.#getters.shift();
    if (getter === undefined) {
      this.#queue.push(key);
      return;
    }
    this.#take(key);
    getter(key);
  }

  #take(key: string): void {
    this.#dirty.delete(key);
    this.#processing.add(key);
    const addedAt = this.#addedAt.get(key);
    this.#addedAt.delete(key);
    if (addedAt !== undefined) this.#onWait?.(this.#clock.now() - addedAt);
  }
}
