// SPDX-License-Identifier: Apache-2.0
import { noopLogger, type Logger } from './log.ts';
import { keyOf, objectKey, type KubeObject } from './resource.ts';

/** The kind of change a store reports. */
export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/**
 * Called after the store changed. `old` is the previous state for `MODIFIED` (and the last known state is `obj`
 * itself for `DELETED`). Listeners must be quick and must not throw (errors are logged and swallowed).
 */
export type ChangeListener<T> = (type: ChangeType, obj: T, old: T | undefined) => void;

/**
 * A read-only, possibly stale view of one kind, kept by a reflector (kube-rs `Store`).
 *
 * Guarantees: objects are deep-frozen and carry no `metadata.managedFields`; `list` returns a new array.
 * Caveats: the view lags the API server; a reconcile that must not act on stale data re-reads live or
 * relies on preconditions (resourceVersion, uid) in its writes.
 */
export interface Store<T extends KubeObject> {
  /** The object `namespace/name` (namespace `undefined` for cluster-scoped kinds). */
  get(namespace: string | undefined, name: string): T | undefined;
  /** All objects, or those of one namespace (cost proportional to the objects returned, not to the store). */
  list(namespace?: string): T[];
  /** The keys (`namespace/name`) of all objects. */
  keys(): string[];
  /** True once the first full list has been loaded. */
  hasSynced(): boolean;
  /** Registers a listener; returns a function that removes it. */
  onChange(listener: ChangeListener<T>): () => void;
}

/**
 * The writable store behind a reflector. The reflector is its only writer (`apply` and `replace`).
 *
 * Guarantees:
 * - `MODIFIED` is emitted only when the resourceVersion changed; a repeated or stale event with the same
 *   resourceVersion changes nothing and emits nothing.
 * - `replace` (a relist) emits `ADDED` for new objects, `MODIFIED` for objects whose resourceVersion changed,
 *   and `DELETED` (with the last known state) for objects that vanished; listeners run after the whole list
 *   is in place.
 * - Objects are indexed by namespace: `list(namespace)` does not scan other namespaces. Both `list` forms
 *   return objects in the order they were first added.
 * Assumptions: the store takes ownership of the objects given to it (it freezes them).
 */
export class MemoryStore<T extends KubeObject> implements Store<T> {
  readonly #objects = new Map<string, T>();
  /** The same objects by namespace (`undefined` for cluster-scoped ones), each map in insertion order. */
  readonly #byNamespace = new Map<string | undefined, Map<string, T>>();
  readonly #listeners = new Set<ChangeListener<T>>();
  readonly #logger: Logger;
  #synced = false;

  constructor(logger: Logger = noopLogger) {
    this.#logger = logger;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#objects.get(objectKey(namespace, name));
  }

  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.#objects.values()];
    const inNamespace = this.#byNamespace.get(namespace);
    return inNamespace ? [...inNamespace.values()] : [];
  }

  keys(): string[] {
    return [...this.#objects.keys()];
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  onChange(listener: ChangeListener<T>): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Applies one watch event (`ADDED` and `MODIFIED` are both upserts). */
  apply(type: ChangeType, obj: T): void {
    const key = keyOf(obj);
    const old = this.#objects.get(key);
    if (type === 'DELETED') {
      if (old === undefined) return;
      this.#delete(key, old);
      this.#emit('DELETED', old, undefined);
      return;
    }
    const change = classify(old, obj);
    if (change === undefined) return;
    const stored = this.#prepare(obj);
    this.#set(key, stored);
    this.#emit(change, stored, old);
  }

  /** Replaces the whole content with a fresh list and marks the store synced. */
  replace(objects: readonly T[]): void {
    const events: Array<[ChangeType, T, T | undefined]> = [];
    const seen = new Set<string>();
    for (const obj of objects) {
      const key = keyOf(obj);
      seen.add(key);
      const old = this.#objects.get(key);
      const change = classify(old, obj);
      if (change === undefined) continue;
      const stored = this.#prepare(obj);
      this.#set(key, stored);
      events.push([change, stored, old]);
    }
    for (const [key, old] of this.#objects) {
      if (seen.has(key)) continue;
      this.#delete(key, old);
      events.push(['DELETED', old, undefined]);
    }
    this.#synced = true;
    for (const [type, obj, old] of events) this.#emit(type, obj, old);
  }

  #prepare(obj: T): T {
    return deepFreeze(withoutManagedFields(obj));
  }

  #set(key: string, obj: T): void {
    this.#objects.set(key, obj);
    const namespace = obj.metadata?.namespace;
    let inNamespace = this.#byNamespace.get(namespace);
    if (!inNamespace) this.#byNamespace.set(namespace, (inNamespace = new Map()));
    inNamespace.set(key, obj);
  }

  #delete(key: string, old: T): void {
    this.#objects.delete(key);
    const namespace = old.metadata?.namespace;
    const inNamespace = this.#byNamespace.get(namespace);
    inNamespace?.delete(key);
    if (inNamespace?.size === 0) this.#byNamespace.delete(namespace);
  }

  #emit(type: ChangeType, obj: T, old: T | undefined): void {
    for (const listener of this.#listeners) {
      try {
        listener(type, obj, old);
      } catch (err) {
        this.#logger.error('Failed to notify store listener', { err, key: keyOf(obj), type });
      }
    }
  }
}

function classify<T extends KubeObject>(old: T | undefined, obj: T): ChangeType | undefined {
  if (old === undefined) return 'ADDED';
  return old.metadata?.resourceVersion === obj.metadata?.resourceVersion ? undefined : 'MODIFIED';
}

/** `obj` without `metadata.managedFields` (a shallow copy when it had them; `obj` itself otherwise). */
export function withoutManagedFields<T extends KubeObject>(obj: T): T {
  if (obj.metadata?.managedFields === undefined) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}
