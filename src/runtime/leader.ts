// SPDX-License-Identifier: Apache-2.0
import { sleep, systemClock, type Clock } from './clock.ts';
import type { KubeClient } from './kube.ts';
import { isConflict } from './kube-http.ts';
import { noopLogger, type Logger } from './log.ts';
import type { ObjectMeta } from './resource.ts';

/** `coordination.k8s.io/v1` Lease spec as JSON (times are MicroTime strings). */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** A `coordination.k8s.io/v1` Lease. */
export interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: ObjectMeta;
  spec?: LeaseSpec;
}

/** The three calls leader election needs; `create` and `replace` reject with 409 on a lost race. */
export interface LeaseApi {
  /** The lease, or `undefined` when it does not exist. */
  get(namespace: string, name: string): Promise<Lease | undefined>;
  /** Creates the lease; 409 when another replica was first. */
  create(lease: Lease): Promise<Lease>;
  /** Optimistic update: fails with 409 unless `metadata.resourceVersion` is current. */
  replace(lease: Lease): Promise<Lease>;
}

/** A {@link LeaseApi} over a client; give it its own client so lease renewals do not count as controller writes. */
export function leaseApiFromKube(kube: Pick<KubeClient, 'get' | 'create' | 'replace'>): LeaseApi {
  const apiVersion = 'coordination.k8s.io/v1';
  return {
    get: (namespace, name) => kube.get<Lease>({ apiVersion, kind: 'Lease', namespace, name }),
    create: (lease) => kube.create(lease),
    replace: (lease) => kube.replace(lease),
  };
}

/** Options of {@link LeaderElector}; durations in milliseconds, defaults as in controller-runtime. */
export interface LeaderElectorOptions {
  readonly namespace: string;
  readonly name: string;
  /** Unique per replica, e.g. the pod name. */
  readonly identity: string;
  readonly api: LeaseApi;
  /** How long a lease holds without renewal; 15 s. */
  readonly leaseDurationMs?: number;
  /** How long the leader keeps retrying a failing renewal before it gives up; 10 s. */
  readonly renewDeadlineMs?: number;
  /** Pause between attempts; 2 s (jittered up to 2.2x while not leading). */
  readonly retryPeriodMs?: number;
  readonly onStartedLeading?: () => void;
  readonly onStoppedLeading?: () => void;
  readonly onNewLeader?: (identity: string) => void;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly random?: () => number;
}

/** Formats `ms` as a MicroTime (`2006-01-02T15:04:05.000000Z`). */
export function formatMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

/**
 * Lease-based leader election (client-go `leaderelection`), with optimistic concurrency on resourceVersion.
 *
 * Guarantees:
 * - A lease held by another identity is taken only after it was seen unchanged for a full lease duration on
 *   *our* clock (never by comparing `renewTime` with our clock, so clock skew between replicas is harmless),
 *   or at once when its holder is empty (released).
 * - The leader renews every retry period; when no renewal succeeds within the renew deadline, it stops
 *   leading (`onStoppedLeading`) and `run()` resolves with `'lost'`.
 * - `stop()` releases the lease when we hold it (empty holder, 1 s duration), so another replica takes over at
 *   once instead of waiting for expiry.
 * Assumptions: `renewDeadlineMs < leaseDurationMs`; callers stop all leader-only work in `onStoppedLeading`.
 * Caveats: there is no fencing: a leader paused longer than the lease duration (GC, SIGSTOP) may still act
 * until its next renewal fails; writes should carry preconditions where a double actor would do harm.
 */
export class LeaderElector {
  readonly #o: LeaderElectorOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #stopping = new AbortController();
  readonly #leaseMs: number;
  #observed: Lease | undefined;
  #observedKey = '';
  #observedAt = 0;
  #leading = false;
  #running: Promise<'lost' | 'stopped'> | undefined;

  constructor(options: LeaderElectorOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#leaseMs = options.leaseDurationMs ?? 15_000;
    this.#logger = (options.logger ?? noopLogger).withValues({ lease: `${options.namespace}/${options.name}`, identity: options.identity });
  }

  /** True while we hold the lease. */
  isLeader(): boolean {
    return this.#leading;
  }

  /** Campaigns, then renews; resolves `'lost'` when leadership is lost, `'stopped'` after `stop()`. */
  run(): Promise<'lost' | 'stopped'> {
    this.#running ??= this.#campaign();
    return this.#running;
  }

  /** Stops campaigning or renewing, and releases the lease if we hold it. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#running;
    if (!this.#leading) return;
    await this.#release();
    this.#setLeading(false);
  }

  async #campaign(): Promise<'lost' | 'stopped'> {
    const retryMs = this.#o.retryPeriodMs ?? 2_000;
    const random = this.#o.random ?? Math.random;
    const timeoutMs = this.#o.renewDeadlineMs ?? 10_000;
    while (!this.#stopping.signal.aborted && !(await this.#attemptWithin(timeoutMs))) {
      await sleep(this.#clock, retryMs * (1 + 1.2 * random()), this.#stopping.signal);
    }
    if (this.#stopping.signal.aborted) return 'stopped';
    this.#setLeading(true);
    return this.#renew();
  }

  /** Renews every retry period; a round of failed attempts that lasts the renew deadline loses the lease. */
  async #renew(): Promise<'lost' | 'stopped'> {
    const retryMs = this.#o.retryPeriodMs ?? 2_000;
    const deadlineMs = this.#o.renewDeadlineMs ?? 10_000;
    let roundStart: number | undefined;
    for (;;) {
      await sleep(this.#clock, retryMs, this.#stopping.signal);
      if (this.#stopping.signal.aborted) return 'stopped';
      roundStart ??= this.#clock.now();
      const remainingMs = deadlineMs - (this.#clock.now() - roundStart);
      if (remainingMs > 0 && (await this.#attemptWithin(remainingMs))) {
        roundStart = undefined;
      } else if (this.#stopping.signal.aborted) {
        return 'stopped';
      } else if (this.#clock.now() - roundStart >= deadlineMs) {
        this.#logger.error('Lost leadership', { failingForMs: this.#clock.now() - roundStart });
        this.#setLeading(false);
        return 'lost';
      }
    }
  }

  /** An attempt that counts as failed after `ms`, or at once when stopping. */
  async #attemptWithin(ms: number): Promise<boolean> {
    const settled = new AbortController();
    const expired = sleep(this.#clock, ms, AbortSignal.any([this.#stopping.signal, settled.signal])).then(() => false);
    try {
      return await Promise.race([this.#attempt(), expired]);
    } finally {
      settled.abort();
    }
  }

  /** One try to acquire or renew (client-go `tryAcquireOrRenew`); true when we hold the lease afterwards. */
  async #attempt(): Promise<boolean> {
    const { api, namespace, name, identity } = this.#o;
    try {
      const current = await api.get(namespace, name);
      if (current === undefined) {
        this.#observe(await api.create(this.#lease(undefined)));
        return true;
      }
      this.#observe(current);
      const holder = current.spec?.holderIdentity ?? '';
      const expired = this.#observedAt + this.#leaseMs <= this.#clock.now();
      if (holder !== '' && holder !== identity && !expired) return false;
      this.#observe(await api.replace(this.#lease(current)));
      return true;
    } catch (err) {
      if (!isConflict(err)) this.#logger.error('Failed to update lease', { err });
      return false;
    }
  }

  #lease(current: Lease | undefined): Lease {
    const now = formatMicroTime(this.#clock.now());
    const spec = current?.spec ?? {};
    const ours = spec.holderIdentity === this.#o.identity;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...current?.metadata, name: this.#o.name, namespace: this.#o.namespace },
      spec: {
        holderIdentity: this.#o.identity,
        leaseDurationSeconds: Math.ceil(this.#leaseMs / 1000),
        acquireTime: ours ? spec.acquireTime : now,
        renewTime: now,
        leaseTransitions: ours ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? -1) + 1,
      },
    };
  }

  #observe(lease: Lease): void {
    const key = JSON.stringify(lease.spec ?? {});
    if (key !== this.#observedKey) {
      this.#observedKey = key;
      this.#observedAt = this.#clock.now();
      const holder = lease.spec?.holderIdentity ?? '';
      if (holder !== (this.#observed?.spec?.holderIdentity ?? '') && holder !== '') {
        this.#logger.info('Observed new leader', { leader: holder });
        this.#o.onNewLeader?.(holder);
      }
    }
    this.#observed = lease;
  }

  async #release(): Promise<void> {
    const observed = this.#observed;
    if (observed?.spec?.holderIdentity !== this.#o.identity) return;
    const now = formatMicroTime(this.#clock.now());
    const spec = { ...observed.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now };
    try {
      this.#observe(await this.#o.api.replace({ ...observed, spec }));
      this.#logger.info('Released lease');
    } catch (err) {
      this.#logger.error('Failed to release lease', { err });
    }
  }

  #setLeading(leading: boolean): void {
    if (this.#leading === leading) return;
    this.#leading = leading;
    if (leading) {
      this.#logger.info('Acquired lease');
      this.#o.onStartedLeading?.();
    } else {
      this.#o.onStoppedLeading?.();
    }
  }
}
