// SPDX-License-Identifier: Apache-2.0
import { systemClock, type Clock, type Timer } from './clock.ts';
import { errorReason, isTerminalError, type ReconcileResult, type TerminalError } from './errors.ts';
import { noopLogger, type Logger } from './log.ts';
import { MetricsRegistry, type Counter, type Histogram } from './metrics.ts';
import { jsonEqual } from '../json/equal.ts';
import { yieldToEventLoop } from './event-loop.ts';
import { WorkQueue, type Lane } from './queue.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { apiGroup, controllerOf, keyOf, parseKey, type KubeObject, type ResourceType } from './resource.ts';
import type { Store } from './store.ts';

/** The key a reconcile is asked about. */
export interface ReconcileRequest {
  /** `namespace/name`, or `name` for cluster-scoped kinds. */
  readonly key: string;
  readonly namespace: string | undefined;
  readonly name: string;
}

/** A synced view of one kind; a {@link Reflector} is one. */
export interface Source<T extends KubeObject> {
  readonly spec: { readonly resource: ResourceType };
  readonly store: Store<T>;
  /** Resolves `true` once the store holds a full list, `false` if the source stopped first. */
  waitForSync(): Promise<boolean>;
}

/** An extra kind whose changes map to primary keys through `map`. */
export interface Watch {
  readonly source: Source<KubeObject>;
  /** The primary keys (`namespace/name`) affected by a change of `obj`. */
  readonly map: (obj: KubeObject) => readonly string[];
}

/** Options of {@link Controller}. */
export interface ControllerOptions<T extends KubeObject> {
  /** Used in logs and metric labels. */
  readonly name: string;
  /** The primary kind: each of its objects is a key. */
  readonly for: Source<T>;
  /**
   * Whether an update of a primary object (`old` → `obj`) can call for work; default: every update does.
   * Adds and deletes always queue the key, and so do the initial and periodic passes: a change this turns
   * away is still seen by the next reconcile of the key for any other reason.
   */
  readonly updateMatters?: (obj: T, old: T) => boolean;
  /** Child kinds mapped to their owner through the ownerReference with `controller: true`. */
  readonly owns?: readonly Source<KubeObject>[];
  readonly watches?: readonly Watch[];
  /** Reads the state of the world for the key and converges it; throws on failure. */
  readonly reconcile: (req: ReconcileRequest) => Promise<ReconcileResult>;
  /** Records a terminal error, typically as a `Ready=False` condition with the error's reason. */
  readonly onError?: (req: ReconcileRequest, err: TerminalError) => Promise<void>;
  /** Workers; default 2. */
  readonly concurrency?: number;
  /**
   * The resync period; default 10 min. Every period, each key not reconciled in the last half period is
   * queued again, so no key goes longer than 1.5 periods without a reconcile, and keys a burst of events has
   * just reconciled are not reconciled again for nothing.
   */
  readonly resyncMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly metrics?: MetricsRegistry;
  readonly rateLimiter?: RateLimiter;
}

/**
 * One reconcile loop: sources feed keys into a {@link WorkQueue}; workers run `reconcile` and act on the
 * outcome exactly like controller-runtime's `reconcileHandler`:
 * - thrown error → `addRateLimited` (per-key backoff), counted under the error's reason;
 * - thrown {@link TerminalError} → `onError`, then `forget`; no retry (if `onError` itself throws, the key is
 *   retried with backoff so the condition is not lost);
 * - `requeueAfter(ms)` → `forget`, then `addAfter(ms)`;
 * - `done()` → `forget`.
 *
 * Guarantees: a key is never reconciled by two workers at once; a change that arrives during a reconcile
 * causes one more reconcile afterwards; every primary key is queued at start, and every `resyncMs` each key
 * not reconciled in the last half of that period.
 * Keys are taken by lane (see {@link Lane}): changes of owned and watched objects and requested requeues
 * (`followUp`) before changes of the primary object and retries (`change`), before the initial and periodic
 * passes (`resync`), so new work never waits behind a pass over every object.
 * Caveats: a controller runs once: after `stop()` it cannot be started again.
 */
export class Controller<T extends KubeObject> {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #o: ControllerOptions<T>;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #metrics: ControllerMetrics;
  readonly #unsubscribe: Array<() => void> = [];
  #workers: Promise<void>[] = [];
  #resync: Timer | undefined;
  #state: 'new' | 'running' | 'stopped' = 'new';
  #synced = false;
  /** When each key's last reconcile started (what it saw is at least that recent). */
  readonly #reconciledAt = new Map<string, number>();

  constructor(options: ControllerOptions<T>) {
    this.name = options.name;
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#logger = (options.logger ?? noopLogger).withValues({ controller: options.name });
    this.#metrics = controllerMetrics(options.metrics ?? new MetricsRegistry());
    const waited = { name: options.name };
    this.queue = new WorkQueue({
      clock: this.#clock,
      onWait: (ms) => this.#metrics.queueWait.observe(waited, ms / 1000),
      ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
    });
  }

  /** Subscribes to the sources, waits for them to sync, queues every key and starts the workers. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`Controller ${this.name} was already started`);
    this.#state = 'running';
    this.#subscribe();
    const sources = [this.#o.for, ...(this.#o.owns ?? []), ...(this.#o.watches ?? []).map((w) => w.source)];
    const synced = await Promise.all(sources.map((s) => s.waitForSync()));
    if (this.#state !== 'running' || synced.includes(false)) return;
    this.#synced = true;
    this.#enqueueAll();
    this.#scheduleResync();
    const concurrency = this.#o.concurrency ?? 2;
    this.#workers = Array.from({ length: concurrency }, () => this.#work());
    this.#logger.info('Started workers', { concurrency });
  }

  /**
   * Stops taking work and waits up to `graceMs` for in-flight reconciles.
   * Resolves `true` when none is left, `false` when some were abandoned at the deadline.
   */
  async stop(graceMs = 30_000): Promise<boolean> {
    if (this.#state === 'stopped') return true;
    this.#state = 'stopped';
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    this.#resync?.cancel();
    this.queue.shutDown();
    let timer: Timer | undefined;
    const deadline = new Promise<false>((resolve) => (timer = this.#clock.after(graceMs, () => resolve(false))));
    const drained = await Promise.race([this.queue.drain().then(() => true), deadline]);
    timer?.cancel();
    if (drained) await Promise.all(this.#workers);
    this.#logger.info(drained ? 'Stopped workers' : 'Abandoned in-flight reconciles', { inFlight: this.queue.processing() });
    return drained;
  }

  #subscribe(): void {
    const primary = this.#o.for.spec.resource;
    // Before the caches are synced every object arrives as an event: those are the initial pass over every
    // object, queued behind the changes that come after it.
    const lane = (ordinary: Lane): Lane => (this.#synced ? ordinary : 'resync');
    const enqueue = (keys: readonly string[]): void => keys.forEach((key) => this.queue.add(key, lane('followUp')));
    const matters = this.#o.updateMatters;
    this.#unsubscribe.push(this.#o.for.store.onChange((type, obj, old) => {
      if (type === 'MODIFIED' && old !== undefined && matters && !matters(obj, old)) return;
      this.queue.add(keyOf(obj), lane('change'));
    }));
    for (const source of this.#o.owns ?? []) {
      this.#unsubscribe.push(source.store.onChange((_type, obj, old) => enqueue(ownerKeys(primary, obj, old))));
    }
    for (const { source, map } of this.#o.watches ?? []) {
      this.#unsubscribe.push(source.store.onChange((_type, obj) => enqueue(map(obj))));
    }
  }

  #enqueueAll(): void {
    for (const key of this.#o.for.store.keys()) this.queue.add(key, 'resync');
  }

  /** Queues the keys not reconciled since `now - recentMs`, and forgets the times of keys that are gone. */
  #enqueueStale(recentMs: number): void {
    const now = this.#clock.now();
    const keys = new Set(this.#o.for.store.keys());
    for (const key of this.#reconciledAt.keys()) if (!keys.has(key)) this.#reconciledAt.delete(key);
    for (const key of keys) {
      const at = this.#reconciledAt.get(key);
      if (at === undefined || now - at >= recentMs) this.queue.add(key, 'resync');
    }
  }

  #scheduleResync(): void {
    const period = this.#o.resyncMs ?? 600_000;
    this.#resync = this.#clock.after(period, () => {
      if (this.#state !== 'running') return;
      this.#enqueueStale(period / 2);
      this.#scheduleResync();
    });
  }

  async #work(): Promise<void> {
    for (let key = await this.queue.get(); key !== undefined; key = await this.queue.get()) {
      try {
        await this.#handle(key);
      } finally {
        this.queue.done(key);
      }
      // Reconciles that find nothing to do never wait for I/O: let watch events and requests in between.
      const turn = yieldToEventLoop();
      if (turn) await turn;
    }
  }

  async #handle(key: string): Promise<void> {
    const req: ReconcileRequest = { key, ...parseKey(key) };
    const started = this.#clock.now();
    this.#reconciledAt.set(key, started);
    let result: ReconcileResult;
    try {
      result = await this.#o.reconcile(req);
    } catch (err) {
      this.#metrics.observe(this.name, started, this.#clock.now());
      await this.#fail(req, err);
      return;
    }
    this.#metrics.observe(this.name, started, this.#clock.now());
    this.queue.forget(key);
    if (result.type === 'requeueAfter') {
      this.#metrics.total.inc({ controller: this.name, result: 'requeue_after' });
      this.queue.addAfter(key, result.ms, 'followUp');
    } else {
      this.#metrics.total.inc({ controller: this.name, result: 'success' });
    }
  }

  async #fail(req: ReconcileRequest, err: unknown): Promise<void> {
    const reason = errorReason(err);
    this.#metrics.errors.inc({ controller: this.name, reason });
    if (!isTerminalError(err)) {
      this.#metrics.total.inc({ controller: this.name, result: 'error' });
      this.#logger.error('Failed to reconcile', { key: req.key, reason, err, retries: this.queue.numRequeues(req.key) });
      this.queue.addRateLimited(req.key);
      return;
    }
    this.#metrics.total.inc({ controller: this.name, result: 'terminal_error' });
    this.#logger.error('Failed to reconcile, not retrying', { key: req.key, reason, err });
    try {
      await this.#o.onError?.(req, err);
      this.queue.forget(req.key);
    } catch (recordErr) {
      this.#logger.error('Failed to record terminal error', { key: req.key, reason, err: recordErr });
      this.queue.addRateLimited(req.key);
    }
  }
}

/**
 * True when `obj` differs from `old` in more than its status (and the bookkeeping every write changes:
 * `metadata.resourceVersion` and `metadata.managedFields`): spec, labels, annotations, finalizers, deletion,
 * owners. For {@link ControllerOptions.updateMatters} of a controller that is the only writer of its objects'
 * status, whose own status writes then call for no reconcile.
 */
export function changedBeyondStatus(obj: KubeObject, old: KubeObject): boolean {
  const rest = ({ status: _status, metadata, ...o }: KubeObject & { status?: unknown }) => {
    const { resourceVersion: _rv, managedFields: _mf, ...meta } = metadata ?? {};
    return { ...o, metadata: meta };
  };
  return !jsonEqual(rest(obj), rest(old));
}

/** Keys of the primary objects that control `obj` (and `old`, when the controller reference changed). */
export function ownerKeys(primary: ResourceType, obj: KubeObject, old?: KubeObject): string[] {
  const keys = new Set<string>();
  for (const child of old ? [obj, old] : [obj]) {
    const owner = controllerOf(child);
    if (!owner || owner.kind !== primary.kind || apiGroup(owner.apiVersion) !== apiGroup(primary.apiVersion)) continue;
    keys.add(primary.namespaced ? `${child.metadata?.namespace ?? ''}/${owner.name}` : owner.name);
  }
  return [...keys];
}

interface ControllerMetrics {
  readonly total: Counter;
  readonly errors: Counter;
  readonly queueWait: Histogram;
  observe(controller: string, started: number, ended: number): void;
}

/** Seconds; controller-runtime's reconcile buckets, thinned. */
const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Seconds a key waits in the queue. */
const QUEUE_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

function controllerMetrics(registry: MetricsRegistry): ControllerMetrics {
  const seconds = registry.histogram('controller_runtime_reconcile_time_seconds', 'Time per reconcile, by controller.', ['controller'], RECONCILE_BUCKETS);
  return {
    total: registry.counter('controller_runtime_reconcile_total', 'Reconciles by controller and result.', ['controller', 'result']),
    errors: registry.counter('controller_runtime_reconcile_errors_total', 'Reconcile errors by controller and reason.', ['controller', 'reason']),
    queueWait: registry.histogram('workqueue_queue_duration_seconds', 'Time a key waited in the work queue before a worker took it, by controller.', ['name'], QUEUE_BUCKETS),
    observe: (controller, started, ended) => seconds.observe({ controller }, (ended - started) / 1000),
  };
}
