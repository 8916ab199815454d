// SPDX-License-Identifier: Apache-2.0
import { systemClock, type Clock, type Timer } from './clock.ts';
import { truncateMessage } from './conditions.ts';
import type { JsonPatchOp, KubeClient } from './kube.ts';
import { isNotFound } from './kube-http.ts';
import { formatMicroTime } from './leader.ts';
import { noopLogger, type Logger } from './log.ts';
import type { KubeObject } from './resource.ts';

/** `type` of an Event. */
export type EventType = 'Normal' | 'Warning';

/** What happened, to whom. */
export interface EventInput {
  /** The object the event is about (needs apiVersion, kind and name). */
  readonly regarding: KubeObject;
  /** A second object involved, e.g. the Pod of a session. */
  readonly related?: KubeObject;
  readonly type: EventType;
  /** PascalCase, e.g. `PodCreated`, `QuotaExceeded`. */
  readonly reason: string;
  /** The action taken or failed, e.g. `Reconcile`, `CreatePod`. */
  readonly action: string;
  /** Human-readable; cut to 1 KiB. */
  readonly note?: string;
}

/** `events.k8s.io/v1` ObjectReference. */
interface EventReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

/** An `events.k8s.io/v1` Event as JSON. */
export interface KubeEvent extends KubeObject {
  eventTime: string;
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  note: string;
  type: EventType;
  regarding: EventReference;
  related?: EventReference;
  series?: { count: number; lastObservedTime: string };
}

/** Where events are written. */
export interface EventSink {
  /** Creates a new Event. */
  create(event: KubeEvent): Promise<void>;
  /** Patches an existing Event (series updates); rejects with 404 when it expired. */
  patch(namespace: string, name: string, ops: readonly JsonPatchOp[]): Promise<void>;
}

/** An {@link EventSink} over a client; give it its own client so events do not count as controller writes. */
export function eventSinkFromKube(kube: Pick<KubeClient, 'create' | 'jsonPatch'>): EventSink {
  return {
    create: async (event) => void (await kube.create(event)),
    patch: async (namespace, name, ops) =>
      void (await kube.jsonPatch({ apiVersion: 'events.k8s.io/v1', kind: 'Event', namespace, name }, ops)),
  };
}

/** Options of {@link EventRecorder}; durations in milliseconds. */
export interface EventRecorderOptions {
  readonly sink: EventSink;
  /** e.g. `panalysis.example/session-controller`. */
  readonly reportingController: string;
  /** e.g. the pod name. */
  readonly reportingInstance: string;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** How often repeat counts are written as `series` updates; default 30 s. */
  readonly seriesFlushMs?: number;
  /** A series ends after this long without a repeat; the next occurrence is a new Event; default 6 min. */
  readonly seriesTtlMs?: number;
  /** New Events per regarding object: a burst of 25, then one per 5 min (client-go's spam filter). */
  readonly burstPerObject?: number;
  readonly refillPerObjectMs?: number;
}

interface Entry {
  readonly event: KubeEvent;
  count: number;
  lastObserved: number;
  written: number;
}

/**
 * Records `events.k8s.io/v1` Events with client-go's aggregation, so that a hot loop cannot flood the API
 * server.
 *
 * Guarantees:
 * - Occurrences that share regarding object, related object, type, reason, action and reporting controller
 *   form one Event: the first is created, the second starts `series` (count 2) at once, later ones only bump
 *   the count, which is written at most once per flush interval.
 * - New Events per regarding object are rate limited (token bucket); excess ones are dropped and counted.
 * - `record` never throws nor waits; writes run in order in the background and failures are logged.
 * Caveats: the note of an aggregated Event is that of its first occurrence. Events are best effort: they are
 * lost when the sink fails or the process exits before `flush()`.
 */
export class EventRecorder {
  readonly stats = { created: 0, seriesUpdates: 0, aggregated: 0, dropped: 0 };
  readonly #o: EventRecorderOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #entries = new Map<string, Entry>();
  readonly #buckets = new Map<string, { tokens: number; last: number }>();
  #tail: Promise<void> = Promise.resolve();
  #timer: Timer | undefined;
  #lastNano = 0;

  constructor(options: EventRecorderOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? noopLogger;
  }

  /** Records one occurrence. */
  record(input: EventInput): void {
    const now = this.#clock.now();
    const key = aggregationKey(input, this.#o.reportingController);
    const entry = this.#entries.get(key);
    if (entry && now - entry.lastObserved < (this.#o.seriesTtlMs ?? 360_000)) {
      entry.count += 1;
      entry.lastObserved = now;
      this.stats.aggregated += 1;
      if (entry.count === 2) this.#writeSeries(key, entry);
      return;
    }
    if (!this.#admit(input.regarding, now)) {
      this.stats.dropped += 1;
      return;
    }
    const created: Entry = { event: this.#build(input, now), count: 1, lastObserved: now, written: 1 };
    this.#entries.set(key, created);
    this.#enqueue(async () => {
      await this.#o.sink.create(created.event);
      this.stats.created += 1;
    });
    this.#schedule();
  }

  /** Writes pending series counts and waits for every queued write. */
  async flush(): Promise<void> {
    this.#sweep();
    await this.#tail;
  }

  /** Flushes and stops the background timer. */
  async stop(): Promise<void> {
    await this.flush();
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #build(input: EventInput, now: number): KubeEvent {
    const regarding = reference(input.regarding);
    const namespace = regarding.namespace ?? 'default';
    this.#lastNano = Math.max(now * 1e6, this.#lastNano + 1);
    return {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: `${regarding.name}.${this.#lastNano.toString(16)}`, namespace },
      eventTime: formatMicroTime(now),
      reportingController: this.#o.reportingController,
      reportingInstance: this.#o.reportingInstance,
      action: input.action,
      reason: input.reason,
      note: truncateMessage(input.note ?? '', 1024),
      type: input.type,
      regarding,
      ...(input.related ? { related: reference(input.related) } : {}),
    };
  }

  #writeSeries(key: string, entry: Entry): void {
    entry.written = entry.count;
    const series = { count: entry.count, lastObservedTime: formatMicroTime(entry.lastObserved) };
    const { namespace = 'default', name = '' } = entry.event.metadata ?? {};
    this.#enqueue(async () => {
      try {
        await this.#o.sink.patch(namespace, name, [{ op: 'add', path: '/series', value: series }]);
        this.stats.seriesUpdates += 1;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.#entries.delete(key);
      }
    });
  }

  #sweep(): void {
    const ttlMs = this.#o.seriesTtlMs ?? 360_000;
    const now = this.#clock.now();
    for (const [key, entry] of this.#entries) {
      if (entry.count > entry.written) this.#writeSeries(key, entry);
      if (now - entry.lastObserved >= ttlMs) this.#entries.delete(key);
    }
    const burst = this.#o.burstPerObject ?? 25;
    const refillMs = this.#o.refillPerObjectMs ?? 300_000;
    for (const [id, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.last) / refillMs >= burst) this.#buckets.delete(id);
    }
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = this.#clock.after(this.#o.seriesFlushMs ?? 30_000, () => {
      this.#timer = undefined;
      this.#sweep();
      if (this.#entries.size > 0) this.#schedule();
    });
  }

  /** The per-object spam filter: a token bucket that never goes into debt. */
  #admit(regarding: KubeObject, now: number): boolean {
    const id = JSON.stringify(reference(regarding));
    const burst = this.#o.burstPerObject ?? 25;
    const bucket = this.#buckets.get(id) ?? { tokens: burst, last: now };
    bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.last) / (this.#o.refillPerObjectMs ?? 300_000));
    bucket.last = now;
    this.#buckets.set(id, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  #enqueue(write: () => Promise<void>): void {
    this.#tail = this.#tail.then(write).catch((err: unknown) => this.#logger.error('Failed to write Event', { err }));
  }
}

function reference(obj: KubeObject): EventReference {
  const { name, namespace, uid, resourceVersion } = obj.metadata ?? {};
  return { apiVersion: obj.apiVersion, kind: obj.kind, name, namespace, uid, resourceVersion };
}

function aggregationKey(input: EventInput, controller: string): string {
  const { resourceVersion: _rv, ...regarding } = reference(input.regarding);
  const related = input.related ? reference(input.related) : undefined;
  return JSON.stringify([regarding, related?.uid ?? related?.name, input.type, input.reason, input.action, controller]);
}
