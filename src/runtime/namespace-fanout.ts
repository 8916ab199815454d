// SPDX-License-Identifier: Apache-2.0
import type { WatchSpec } from './list-watch.ts';
import { noopLogger, type Logger } from './log.ts';
import type { Reflector, ReflectorStats } from './reflector.ts';
import type { KubeObject } from './resource.ts';
import { objectKey } from './resource.ts';
import type { ChangeListener, Store } from './store.ts';

/** What the manager needs of a source: a {@link Reflector}, or a {@link NamespaceFanout} of them. */
export type SourceLike<T extends KubeObject> = Pick<Reflector<T>, 'spec' | 'store' | 'stats' | 'start' | 'stop' | 'waitForSync' | 'hasSynced'>;

/** Options of {@link NamespaceFanout}. */
export interface NamespaceFanoutOptions<T extends KubeObject> {
  /** The all-namespaces spec this source stands for (its `namespace` is ignored). */
  readonly spec: WatchSpec;
  /** The namespaces to watch in: every namespace this source holds (typically label-selected). */
  readonly namespaces: SourceLike<KubeObject>;
  /**
   * A reflector for one namespace (not started). `settled` is called when its first list
   * succeeded or failed, whichever comes first.
   */
  readonly reflector: (spec: WatchSpec, settled: () => void) => Reflector<T>;
  readonly logger?: Logger;
}

interface Child<T extends KubeObject> {
  readonly reflector: Reflector<T>;
  readonly settled: Promise<void>;
  readonly unsubscribe: () => void;
}

/**
 * One kind watched namespace by namespace, in the namespaces another source holds, behind
 * one store: what a controller sees when it may not list the kind cluster-wide (RBAC
 * granted per namespace, e.g. Secrets only in proposal namespaces).
 *
 * Guarantees:
 * - A namespace that appears in `namespaces` gets its own reflector at once; one that
 *   leaves it has its reflector stopped, and its objects are reported `DELETED`.
 * - `waitForSync` resolves once the namespaces are synced and each of their reflectors has
 *   either listed or failed its first list (a namespace where the operator has no rights
 *   yet must not hold the whole operator back); a failed namespace keeps retrying with
 *   backoff and fills the store once it is allowed.
 * - Listeners of the store see the changes of every namespace.
 */
export class NamespaceFanout<T extends KubeObject> implements SourceLike<T> {
  readonly spec: WatchSpec;
  readonly store: Store<T>;
  readonly #o: NamespaceFanoutOptions<T>;
  readonly #logger: Logger;
  readonly #children = new Map<string, Child<T>>();
  readonly #listeners = new Set<ChangeListener<T>>();
  #started = false;
  #synced = false;
  #unsubscribe: (() => void) | undefined;

  constructor(options: NamespaceFanoutOptions<T>) {
    this.#o = options;
    this.spec = { ...options.spec, namespace: undefined };
    this.#logger = options.logger ?? noopLogger;
    this.store = this.#makeStore();
  }

  /** Counters summed over the namespaces' reflectors. */
  get stats(): ReflectorStats {
    const sum: ReflectorStats = { lists: 0, watches: 0, relistsAfterGone: 0, watchdogRestarts: 0, errors: 0 };
    for (const { reflector } of this.#children.values()) for (const k of Object.keys(sum) as Array<keyof ReflectorStats>) sum[k] += reflector.stats[k];
    return sum;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#unsubscribe = this.#o.namespaces.store.onChange((type, ns) => {
      const name = ns.metadata?.name;
      if (!name) return;
      if (type === 'DELETED') void this.#remove(name);
      else this.#add(name);
    });
    for (const ns of this.#o.namespaces.store.list()) if (ns.metadata?.name) this.#add(ns.metadata.name);
  }

  async waitForSync(): Promise<boolean> {
    if (this.#synced) return true;
    if (!(await this.#o.namespaces.waitForSync())) return false;
    await Promise.all([...this.#children.values()].map((c) => c.settled));
    this.#synced = true;
    return true;
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    await Promise.all([...this.#children.values()].map((c) => c.reflector.stop()));
  }

  #add(namespace: string): void {
    if (this.#children.has(namespace)) return;
    let settle: () => void = () => undefined;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const reflector = this.#o.reflector({ ...this.#o.spec, namespace }, () => settle());
    void reflector.waitForSync().then(() => settle());
    const unsubscribe = reflector.store.onChange((type, obj, old) => this.#emit(type, obj, old));
    this.#children.set(namespace, { reflector, settled, unsubscribe });
    this.#logger.info('Watching namespace', { kind: this.spec.resource.kind, namespace });
    reflector.start();
  }

  async #remove(namespace: string): Promise<void> {
    const child = this.#children.get(namespace);
    if (!child) return;
    this.#children.delete(namespace);
    child.unsubscribe();
    await child.reflector.stop();
    for (const obj of child.reflector.store.list()) this.#emit('DELETED', obj, undefined);
    this.#logger.info('Stopped watching namespace', { kind: this.spec.resource.kind, namespace });
  }

  #emit(...args: Parameters<ChangeListener<T>>): void {
    for (const listener of this.#listeners) {
      try {
        listener(...args);
      } catch (err) {
        this.#logger.error('Failed to notify store listener', { err, key: objectKey(args[1].metadata?.namespace, args[1].metadata?.name ?? '') });
      }
    }
  }

  #makeStore(): Store<T> {
    const children = this.#children;
    const listeners = this.#listeners;
    return {
      get: (namespace, name) => (namespace === undefined ? undefined : children.get(namespace)?.reflector.store.get(namespace, name)),
      list: (namespace) => (namespace !== undefined ? (children.get(namespace)?.reflector.store.list(namespace) ?? []) : [...children.values()].flatMap((c) => c.reflector.store.list())),
      keys: () => [...children.values()].flatMap((c) => c.reflector.store.keys()),
      hasSynced: () => this.#synced,
      onChange: (listener) => {
        listeners.add(listener);
        return () => void listeners.delete(listener);
      },
    };
  }
}
