// SPDX-License-Identifier: Apache-2.0
import { Backoff, sleep, systemClock, type Clock, type Timer } from './clock.ts';
import { KubeApiError, isGone } from './kube-http.ts';
import type { ListPage, ListWatchSource, WatchEvent, WatchHandle, WatchSpec } from './list-watch.ts';
import { noopLogger, type Logger } from './log.ts';
import type { KubeObject } from './resource.ts';
import { MemoryStore, withoutManagedFields, type Store } from './store.ts';

/** Options of {@link Reflector}; durations in milliseconds unless named otherwise. */
export interface ReflectorOptions<T> {
  readonly spec: WatchSpec;
  readonly source: ListWatchSource<T>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Random numbers in [0, 1), for jitter; default `Math.random`. */
  readonly random?: () => number;
  /** The server-side watch timeout is drawn from [min, 2*min] seconds; default 300 (client-go: 5-10 min). */
  readonly minWatchTimeoutSeconds?: number;
  /** Restart a watch that delivered nothing (bookmarks included) for this long; default 3 min. */
  readonly watchdogMs?: number;
  /** Reconnect backoff after a failure: from `backoffInitialMs` (1 s) doubling to `backoffMaxMs` (30 s). */
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  /** List page size; default 500. */
  readonly pageSize?: number;
  /**
   * Shrinks each listed or watched object before anything keeps it (after `managedFields` are dropped), e.g.
   * {@link slimObject}. Must be pure and keep `apiVersion`, `kind`, `metadata.name`, `metadata.namespace`
   * and `metadata.resourceVersion`; what it drops is invisible to every reader of the store.
   */
  readonly transform?: (obj: T) => T;
}

/** Counters for metrics and tests. */
export interface ReflectorStats {
  lists: number;
  watches: number;
  /** Relists caused by HTTP 410 or an in-stream `ERROR` with code 410. */
  relistsAfterGone: number;
  watchdogRestarts: number;
  errors: number;
}

type EndReason = 'closed' | 'gone' | 'watchdog' | 'stopped' | 'error';

interface WatchOutcome {
  readonly reason: EndReason;
  readonly events: number;
  readonly durationMs: number;
}

/** A watch that ends this quickly without delivering anything counts as a failure (client-go: "very short watch"). */
const SHORT_WATCH_MS = 1_000;

/**
 * Keeps a {@link Store} of one kind in step with the API server: list, then watch from the list's
 * resourceVersion, forever (client-go `Reflector`, kube-rs `watcher`).
 *
 * Guarantees:
 * - Watches ask for bookmarks and a jittered server-side timeout; a closed watch resumes from the last
 *   resourceVersion seen (events and bookmarks), so no event between two watches is skipped.
 * - HTTP 410 (at watch start or as an in-stream `ERROR`) leads to a full relist; the store's `replace` then
 *   reports every object that changed or vanished in the gap (`MODIFIED`, `DELETED`).
 * - Any other failure (list or watch) is retried forever with jittered exponential backoff; the backoff
 *   resets once a watch delivers something.
 * - A watch silent for longer than the watchdog period is closed and reopened from the last resourceVersion.
 * - Objects missing `apiVersion`/`kind` (list items) get them from `spec.resource`.
 * - Every object is stripped of `managedFields` and passed through `transform` as soon as it arrives (each list
 *   page, each event), so a relist never holds more than two pages of full objects: the next page is asked
 *   for before a page is transformed, so the server prepares it meanwhile.
 * Caveats: the store may lag the server by up to one watchdog period when a connection dies silently.
 */
export class Reflector<T extends KubeObject> {
  readonly spec: WatchSpec;
  readonly stats: ReflectorStats = { lists: 0, watches: 0, relistsAfterGone: 0, watchdogRestarts: 0, errors: 0 };
  readonly #store: MemoryStore<T>;
  readonly #source: ListWatchSource<T>;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #backoff: Backoff;
  readonly #options: ReflectorOptions<T>;
  readonly #stopping = new AbortController();
  #syncWaiters: Array<(synced: boolean) => void> = [];
  #resourceVersion: string | undefined;
  #stopWatch: (() => void) | undefined;
  #running: Promise<void> | undefined;

  constructor(options: ReflectorOptions<T>) {
    this.spec = options.spec;
    this.#options = options;
    this.#source = options.source;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    const { resource, namespace, labelSelector } = options.spec;
    this.#logger = (options.logger ?? noopLogger).withValues({ kind: resource.kind, namespace, labelSelector });
    this.#store = new MemoryStore<T>(this.#logger);
    this.#backoff = new Backoff(options.backoffInitialMs ?? 1_000, options.backoffMaxMs ?? 30_000, this.#random);
  }

  /** The store this reflector fills. */
  get store(): Store<T> {
    return this.#store;
  }

  /** True once the first list is in the store. */
  hasSynced(): boolean {
    return this.#store.hasSynced();
  }

  /** The last resourceVersion seen (list, event or bookmark); `undefined` before the first list or after a 410. */
  lastResourceVersion(): string | undefined {
    return this.#resourceVersion;
  }

  /** Starts the list/watch loop; a second call is a no-op. */
  start(): void {
    this.#running ??= this.#run();
  }

  /** Resolves `true` once synced, or `false` if the reflector is stopped first. */
  waitForSync(): Promise<boolean> {
    if (this.hasSynced()) return Promise.resolve(true);
    if (this.#stopping.signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  /** Closes the watch and ends the loop; the store keeps its content. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    this.#stopWatch?.();
    this.#resolveSync(false);
    await this.#running;
  }

  async #run(): Promise<void> {
    while (!this.#stopping.signal.aborted) {
      try {
        if (this.#resourceVersion === undefined) await this.#relist();
        if (this.#stopping.signal.aborted || this.#resourceVersion === undefined) break;
        const outcome = await this.#watch(this.#resourceVersion);
        if (!this.#isHealthy(outcome)) await sleep(this.#clock, this.#backoff.next(), this.#stopping.signal);
      } catch (err) {
        if (this.#stopping.signal.aborted) break;
        this.stats.errors += 1;
        const msg = this.#resourceVersion === undefined ? 'Failed to list' : 'Failed to watch';
        if (isGone(err)) this.#markGone();
        const delayMs = this.#backoff.next();
        this.#logger.error(msg, { err, resourceVersion: this.#resourceVersion, retryInMs: delayMs });
        await sleep(this.#clock, delayMs, this.#stopping.signal);
      }
    }
  }

  #isHealthy(outcome: WatchOutcome): boolean {
    if (outcome.events > 0) this.#backoff.reset();
    if (outcome.reason === 'gone') this.#markGone();
    if (outcome.reason === 'stopped' || outcome.reason === 'watchdog') return true;
    return outcome.events > 0 || outcome.durationMs >= SHORT_WATCH_MS;
  }

  #markGone(): void {
    this.stats.relistsAfterGone += 1;
    this.#logger.info('Observed expired resourceVersion, relisting', { resourceVersion: this.#resourceVersion });
    this.#resourceVersion = undefined;
  }

  async #relist(): Promise<void> {
    const items: T[] = [];
    const limit = this.#options.pageSize ?? 500;
    let resourceVersion: string;
    // The next page is asked for before this one is admitted, so the server prepares it while the transform runs.
    let next: Promise<ListPage<T>> | undefined = this.#source.list({ limit });
    try {
      do {
        const page: ListPage<T> = await next;
        next = page.continue && !this.#stopping.signal.aborted ? this.#source.list({ limit, continue: page.continue }) : undefined;
        for (const item of page.items) items.push(this.#admit(item));
        resourceVersion = page.resourceVersion;
      } while (next && !this.#stopping.signal.aborted);
    } finally {
      // A page asked for in vain (stopping, or a failure while admitting the one before) must not fail unheard.
      next?.catch(() => undefined);
    }
    if (this.#stopping.signal.aborted) return;
    this.#store.replace(items);
    this.#resourceVersion = resourceVersion;
    this.stats.lists += 1;
    this.#logger.debug('Listed objects', { count: items.length, resourceVersion });
    this.#resolveSync(true);
  }

  #watch(resourceVersion: string): Promise<WatchOutcome> {
    const minSeconds = this.#options.minWatchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.floor(minSeconds * (1 + this.#random()));
    const startedAt = this.#clock.now();
    const state = { events: 0, lastActivity: startedAt, reason: undefined as EndReason | undefined, error: undefined as unknown };
    let handle: WatchHandle | undefined;
    let finished = false;
    this.stats.watches += 1;
    return new Promise<WatchOutcome>((resolve, reject) => {
      const finish = (err: unknown): void => {
        if (finished) return;
        finished = true;
        watchdog.cancel();
        this.#stopWatch = undefined;
        const reason = state.reason ?? (err ? 'error' : 'closed');
        if (reason === 'error') reject(state.error ?? err);
        else resolve({ reason, events: state.events, durationMs: this.#clock.now() - startedAt });
      };
      const end = (reason: EndReason, error?: unknown): void => {
        if (state.reason === undefined) Object.assign(state, { reason, error });
        handle?.abort();
        finish(undefined);
      };
      const onEvent = (event: WatchEvent<T>): void => {
        if (finished) return;
        // An ERROR is not progress: counting it would let a server that answers every watch with 410 drive
        // back-to-back relists without backoff.
        if (event.type !== 'ERROR') state.events += 1;
        state.lastActivity = this.#clock.now();
        this.#handleEvent(event, end);
      };
      this.#stopWatch = () => end('stopped');
      const watchdog = this.#armWatchdog(state, end);
      this.#source.watch({ resourceVersion, timeoutSeconds }, onEvent, finish).then(
        (h) => (finished ? h.abort() : (handle = h)),
        (err: unknown) => finish(err ?? new Error('Watch failed to start')),
      );
    });
  }

  #handleEvent(event: WatchEvent<T>, end: (reason: EndReason, error?: unknown) => void): void {
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED': {
        const obj = this.#admit(event.object);
        this.#store.apply(event.type, obj);
        this.#resourceVersion = obj.metadata?.resourceVersion ?? this.#resourceVersion;
        return;
      }
      case 'BOOKMARK':
        this.#resourceVersion = event.object.metadata?.resourceVersion ?? this.#resourceVersion;
        return;
      case 'ERROR': {
        const status = event.object as { code?: number; reason?: string; message?: string };
        if (status.code === 410) end('gone');
        else end('error', new KubeApiError(status.code ?? 500, status.reason ?? 'Unknown', status.message ?? 'Watch error'));
        return;
      }
      default:
        return;
    }
  }

  #armWatchdog(state: { lastActivity: number }, end: (reason: EndReason) => void): Timer {
    const periodMs = this.#options.watchdogMs ?? 180_000;
    let timer: Timer;
    const check = (): void => {
      const silentMs = this.#clock.now() - state.lastActivity;
      if (silentMs < periodMs) {
        timer = this.#clock.after(periodMs - silentMs, check);
        return;
      }
      this.stats.watchdogRestarts += 1;
      this.#logger.info('Restarted silent watch', { silentMs, resourceVersion: this.#resourceVersion });
      end('watchdog');
    };
    timer = this.#clock.after(periodMs, check);
    return { cancel: () => timer.cancel() };
  }

  #admit(obj: T): T {
    const transform = this.#options.transform;
    const slim = withoutManagedFields(this.#withTypeMeta(obj));
    return transform ? transform(slim) : slim;
  }

  #withTypeMeta(obj: T): T {
    if (obj.apiVersion && obj.kind) return obj;
    const { apiVersion, kind } = this.spec.resource;
    return { ...obj, apiVersion, kind };
  }

  #resolveSync(synced: boolean): void {
    const waiters = this.#syncWaiters;
    this.#syncWaiters = [];
    for (const resolve of waiters) resolve(synced);
  }
}
