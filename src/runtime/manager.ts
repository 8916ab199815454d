// SPDX-License-Identifier: Apache-2.0
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { systemClock, type Clock } from './clock.ts';
import { Controller, type ControllerOptions } from './controller.ts';
import { slimObject } from './cache-transform.ts';
import { EventRecorder, eventSinkFromKube, type EventSink } from './events.ts';
import { createKubeClient, type KubeClient } from './kube.ts';
import { createKubeTransport } from './kube-http.ts';
import { LeaderElector, leaseApiFromKube, type LeaderElectorOptions, type LeaseApi } from './leader.ts';
import { createListWatch, type ListWatchSource, type WatchSpec } from './list-watch.ts';
import { jsonLogger, type Logger } from './log.ts';
import { MetricsRegistry } from './metrics.ts';
import { NamespaceFanout, type SourceLike } from './namespace-fanout.ts';
import { startProbeServer, type ProbeServer } from './probe-server.ts';
import { Reflector, type ReflectorOptions } from './reflector.ts';
import { SelectedView, parseLabelSelector } from './selected-view.ts';
import type { KubeObject, ObjectRef } from './resource.ts';
import { registerRuntimeMetrics } from './runtime-metrics.ts';

const NAMESPACE = { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false } as const;

/** Lease settings; durations default to 15 s / 10 s / 2 s. */
export type LeaderElectionConfig = Pick<
  LeaderElectorOptions,
  'namespace' | 'name' | 'identity' | 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'
> & { readonly api: LeaseApi };

/** Reflector tuning shared by every source of the manager. */
export type ReflectorTuning = Pick<
  ReflectorOptions<KubeObject>,
  'watchdogMs' | 'minWatchTimeoutSeconds' | 'backoffInitialMs' | 'backoffMaxMs' | 'pageSize'
>;

/** Options of {@link Manager}. */
export interface ManagerOptions {
  /** The controllers' client; its write counters are exported as metrics. */
  readonly kube: KubeClient;
  readonly listWatch: (spec: WatchSpec) => ListWatchSource<KubeObject>;
  /** Without it every replica runs the controllers. */
  readonly leaderElection?: LeaderElectionConfig;
  readonly eventSink?: EventSink;
  /** `reportingInstance` of Events; default the host name. */
  readonly instance?: string;
  /** Probe and metrics server; port 0 picks a free port; omit for none. */
  readonly server?: { readonly port: number; readonly host?: string };
  /** How long `stop()` waits for in-flight reconciles; default 25 s (keep it below the pod's termination grace period). */
  readonly shutdownGraceMs?: number;
  readonly reflector?: ReflectorTuning;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly random?: () => number;
  /**
   * Kinds (by plural) that are watched only in the namespaces matching `namespaceSelector`
   * (a label selector on Namespaces), one watch per namespace, never cluster-wide: for
   * kinds the operator may only read where RBAC grants it per namespace (Secrets).
   */
  readonly namespaceScoped?: { readonly plurals: readonly string[]; readonly namespaceSelector: string };
  /**
   * Applied by every source to each object before its store keeps it (see `ReflectorOptions.transform`);
   * default {@link slimObject} with one interner for all sources; `false` keeps objects whole.
   */
  readonly transform?: ((obj: KubeObject) => KubeObject) | false;
}

/** A controller declared against watch specs; the manager shares one reflector per spec. */
export type ControllerSpec<T extends KubeObject> = Omit<
  ControllerOptions<T>,
  'for' | 'owns' | 'watches' | 'clock' | 'logger' | 'metrics'
> & {
  readonly for: WatchSpec;
  readonly owns?: readonly WatchSpec[];
  readonly watches?: ReadonlyArray<{ readonly spec: WatchSpec; readonly map: (obj: KubeObject) => readonly string[] }>;
};

/** Thrown by `start()` when the lease was lost; the process should exit so a fresh replica campaigns. */
export class LeaderElectionLostError extends Error {
  constructor() {
    super('Lost the leader election lease');
    this.name = 'LeaderElectionLostError';
  }
}

/**
 * Owns the lifecycle of reflectors, controllers, leader election, Event recorders and the probe server.
 *
 * Guarantees:
 * - Start order: probe server → reflectors (on every replica, so a new leader starts warm) → wait for sync →
 *   controllers, only while holding the lease when leader election is configured.
 * - `stop()` (also on SIGTERM/SIGINT via `handleSignals`): controllers stop taking work and drain in-flight
 *   reconciles for at most `shutdownGraceMs`; then the lease is released, Events flushed, watches closed and
 *   the server shut.
 * - `/readyz` is 200 only when every reflector has synced and the manager is not stopping.
 * Caveats: sources and controllers must be added before `start()`.
 */
export class Manager {
  readonly kube: KubeClient;
  readonly metrics = new MetricsRegistry();
  readonly #o: ManagerOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #reflectors = new Map<string, SourceLike<KubeObject>>();
  /** Label-selected sources, bound at start to a source of the same scope without selector, or their own reflector. */
  readonly #views = new Map<string, SelectedView<KubeObject>>();
  readonly #controllers: Array<Controller<KubeObject>> = [];
  readonly #recorders: EventRecorder[] = [];
  readonly #transform: ((obj: KubeObject) => KubeObject) | undefined;
  #elector: LeaderElector | undefined;
  #server: ProbeServer | undefined;
  #started = false;
  #stopping: Promise<void> | undefined;
  #resolveStopped: () => void = () => undefined;
  readonly #stopped = new Promise<void>((resolve) => (this.#resolveStopped = resolve));

  constructor(options: ManagerOptions) {
    this.#o = options;
    this.kube = options.kube;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? jsonLogger();
    this.#transform = options.transform === false ? undefined : (options.transform ?? slimObject());
    registerRuntimeMetrics(this.metrics, {
      kube: this.kube,
      controllers: () => this.#controllers,
      reflectors: () => [...this.#reflectors.values()],
      leading: () => this.#elector?.isLeader(),
    });
  }

  /**
   * A manager for `kc`'s current context: controllers, leases and Events get separate clients over one
   * transport (so lease renewals and Events do not count as controller writes), and the controllers' client
   * skips applies against the manager's stores.
   */
  static fromKubeConfig(
    kc: KubeConfig,
    options: Omit<ManagerOptions, 'kube' | 'listWatch' | 'eventSink' | 'leaderElection'> & {
      readonly leaderElection?: Omit<LeaderElectionConfig, 'api'>;
      /** See `KubeClientOptions.appliedHashAnnotation`: zero writes after a restart too. */
      readonly appliedHashAnnotation?: string;
    },
  ): Manager {
    const transport = createKubeTransport(kc);
    const holder: { manager?: Manager } = {};
    const { leaderElection, appliedHashAnnotation, ...rest } = options;
    const kube = createKubeClient({ transport, live: (ref) => holder.manager?.lookup(ref), appliedHashAnnotation });
    holder.manager = new Manager({
      ...rest,
      kube,
      listWatch: (spec) => createListWatch(kc, transport, spec),
      eventSink: eventSinkFromKube(createKubeClient({ transport })),
      ...(leaderElection ? { leaderElection: { ...leaderElection, api: leaseApiFromKube(createKubeClient({ transport })) } } : {}),
    });
    return holder.manager;
  }

  /**
   * The shared reflector for `spec` (created on first use); for a kind in `namespaceScoped`
   * without a namespace, a {@link NamespaceFanout} over the selected namespaces. A spec with an
   * equality-based label selector gets a {@link SelectedView}: at `start()` it is served from the source
   * of the same kind and scope without selector if one was declared (one cache instead of two), else
   * from a reflector of its own.
   */
  source<T extends KubeObject>(spec: WatchSpec): SourceLike<T> {
    const key = sourceKey(spec);
    const existing = this.#views.get(key) ?? this.#reflectors.get(key);
    if (existing) return existing as unknown as SourceLike<T>;
    if (this.#started) throw new Error('Sources must be added before start()');
    const scoped = this.#o.namespaceScoped;
    const fanout = scoped && spec.resource.namespaced && spec.namespace === undefined && scoped.plurals.includes(spec.resource.plural);
    const requirements = spec.labelSelector && !fanout ? parseLabelSelector(spec.labelSelector) : undefined;
    if (requirements) {
      const view = new SelectedView<KubeObject>(spec, requirements, this.#logger);
      this.#views.set(key, view);
      return view as unknown as SourceLike<T>;
    }
    const reflector: SourceLike<KubeObject> = fanout
      ? new NamespaceFanout<KubeObject>({
        spec,
        namespaces: this.source({ resource: NAMESPACE, labelSelector: scoped.namespaceSelector }),
        reflector: (s, settled) => this.#reflector(s, settled),
        logger: this.#logger,
      })
      : this.#reflector(spec);
    this.#reflectors.set(key, reflector);
    return reflector as unknown as SourceLike<T>;
  }

  /** Gives every selected view its parent: the unselected source of its scope, or a reflector of its own. */
  #bindViews(): void {
    for (const [key, view] of this.#views) {
      const unselected = this.#reflectors.get(sourceKey({ ...view.spec, labelSelector: undefined }));
      if (unselected && !(unselected instanceof NamespaceFanout)) {
        view.bind(unselected);
        continue;
      }
      const own = this.#reflector(view.spec);
      this.#reflectors.set(key, own);
      view.bind(own);
    }
  }

  /** A reflector for `spec`; `settled` (if given) is called when its first list succeeds or fails. */
  #reflector(spec: WatchSpec, settled?: () => void): Reflector<KubeObject> {
    const source = this.#o.listWatch(spec);
    const listed: typeof source = !settled ? source : {
      list: (o) => source.list(o).finally(settled),
      watch: (o, onEvent, onDone) => source.watch(o, onEvent, onDone),
    };
    const transform = this.#transform ? { transform: this.#transform } : {};
    return new Reflector({ ...this.#o.reflector, ...transform, spec, source: listed, clock: this.#clock, logger: this.#logger, ...this.#random() });
  }

  /** The cached object for `ref` from any source of its kind, if one holds it. */
  lookup(ref: ObjectRef): KubeObject | undefined {
    for (const reflector of this.#reflectors.values()) {
      const { resource, namespace } = reflector.spec;
      if (resource.apiVersion !== ref.apiVersion || resource.kind !== ref.kind) continue;
      if (namespace !== undefined && namespace !== ref.namespace) continue;
      const obj = reflector.store.get(ref.namespace, ref.name);
      if (obj) return obj;
    }
    return undefined;
  }

  /** Declares a controller; its sources are shared with other controllers watching the same specs. */
  addController<T extends KubeObject>(spec: ControllerSpec<T>): Controller<T> {
    if (this.#started) throw new Error('Controllers must be added before start()');
    const controller = new Controller<T>({
      ...spec,
      for: this.source<T>(spec.for),
      owns: (spec.owns ?? []).map((s) => this.source(s)),
      watches: (spec.watches ?? []).map((w) => ({ source: this.source(w.spec), map: w.map })),
      clock: this.#clock,
      logger: this.#logger,
      metrics: this.metrics,
    });
    this.#controllers.push(controller as unknown as Controller<KubeObject>);
    return controller;
  }

  /** An Event recorder reporting as `reportingController`; flushed on stop. */
  eventRecorder(reportingController: string): EventRecorder {
    const sink = this.#o.eventSink;
    if (!sink) throw new Error('No event sink configured');
    const recorder = new EventRecorder({ sink, reportingController, reportingInstance: this.#o.instance ?? hostname(), clock: this.#clock, logger: this.#logger });
    this.#recorders.push(recorder);
    return recorder;
  }

  /** The probe server's port once started (useful with port 0). */
  get port(): number | undefined {
    return this.#server?.port;
  }

  /** True when every source has synced and the manager is not stopping. */
  isReady(): boolean {
    return this.#stopping === undefined && [...this.#reflectors.values()].every((r) => r.hasSynced());
  }

  /** Runs until `stop()`; rejects with {@link LeaderElectionLostError} when the lease is lost. */
  async start(): Promise<void> {
    if (this.#started) throw new Error('Manager already started');
    this.#started = true;
    const server = this.#o.server;
    if (server) {
      const handlers = { healthy: () => true, ready: () => this.isReady(), metrics: () => this.metrics.render() };
      this.#server = await startProbeServer(server.port, server.host, handlers);
      this.#logger.info('Started probe server', { port: this.#server.port });
    }
    this.#bindViews();
    for (const reflector of this.#reflectors.values()) reflector.start();
    const synced = await Promise.all([...this.#reflectors.values()].map((r) => r.waitForSync()));
    if (synced.includes(false) || this.#stopping) return this.#stopped;
    this.#logger.info('Synced caches', { sources: synced.length });
    if (!this.#o.leaderElection) {
      this.#startControllers();
      return this.#stopped;
    }
    const outcome = await this.#campaign(this.#o.leaderElection);
    if (outcome === 'lost') {
      await this.stop();
      throw new LeaderElectionLostError();
    }
    return this.#stopped;
  }

  /** Graceful shutdown (see the class guarantees); idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#shutdown();
    return this.#stopping;
  }

  /** Calls `stop()` on SIGTERM and SIGINT; returns a function that removes the handlers. */
  handleSignals(target: Pick<NodeJS.Process, 'once' | 'off'> = process): () => void {
    const onSignal = (signal: string): void => {
      this.#logger.info('Received signal', { signal });
      void this.stop();
    };
    target.once('SIGTERM', onSignal);
    target.once('SIGINT', onSignal);
    return () => {
      target.off('SIGTERM', onSignal);
      target.off('SIGINT', onSignal);
    };
  }

  #campaign(config: LeaderElectionConfig): Promise<'lost' | 'stopped'> {
    this.#elector = new LeaderElector({
      ...config,
      clock: this.#clock,
      logger: this.#logger,
      ...this.#random(),
      onStartedLeading: () => this.#startControllers(),
      onStoppedLeading: () => void this.#stopControllers(),
    });
    return this.#elector.run();
  }

  #startControllers(): void {
    if (this.#stopping) return;
    for (const controller of this.#controllers) {
      controller.start().catch((err: unknown) => this.#logger.error('Failed to start controller', { controller: controller.name, err }));
    }
  }

  async #stopControllers(): Promise<boolean> {
    const graceMs = this.#o.shutdownGraceMs ?? 25_000;
    const drained = await Promise.all(this.#controllers.map((c) => c.stop(graceMs)));
    return drained.every(Boolean);
  }

  async #shutdown(): Promise<void> {
    this.#logger.info('Stopping manager');
    const drained = await this.#stopControllers();
    await this.#elector?.stop();
    await Promise.all(this.#recorders.map((r) => r.stop()));
    await Promise.all([...this.#reflectors.values()].map((r) => r.stop()));
    await this.#server?.close();
    this.#logger.info('Stopped manager', { drained });
    this.#resolveStopped();
  }

  #random(): { random?: () => number } {
    return this.#o.random ? { random: this.#o.random } : {};
  }
}

function sourceKey(spec: WatchSpec): string {
  return JSON.stringify([spec.resource.apiVersion, spec.resource.kind, spec.namespace, spec.labelSelector, spec.fieldSelector]);
}
