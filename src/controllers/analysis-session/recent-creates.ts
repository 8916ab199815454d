// SPDX-License-Identifier: Apache-2.0
/**
 * Children the session controller created that its cache has not shown yet. Events of
 * other objects (the claim bound, the finalizer added) bring a session back before the
 * watch delivers the pod it just created; without this view that reconcile creates the pod
 * again, the apiserver answers 409 (after running admission for it), and a live read
 * follows. A created object stands in for the cache until the cache shows any event of it
 * (it is there, or was deleted meanwhile: the cache is right again), or for at most
 * {@link RECENT_CREATE_TTL_MS}, after which the owner is looked at again.
 *
 * Only kinds whose absence is no risk are held: the pod, its Secret and claim (a pod
 * believed to exist a few seconds too long is only created later). The NetworkPolicy is
 * never held: a pod must not be started on the belief that it is in force.
 */
import type { KubeObject, ObjectRef } from '../../runtime/resource.ts';

/** How long a created object may stand in for the cache. */
export const RECENT_CREATE_TTL_MS = 10_000;

/** The kinds that may stand in for the cache. */
export const RECENT_KINDS: ReadonlySet<string> = new Set(['Pod', 'Secret', 'PersistentVolumeClaim']);

const keyOf = (r: { apiVersion?: string; kind?: string; namespace?: string; name?: string }): string => `${r.apiVersion}/${r.kind}/${r.namespace ?? ''}/${r.name}`;
const refKey = (o: KubeObject): string => keyOf({ apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata?.namespace, name: o.metadata?.name });

export class RecentCreates {
  readonly #entries = new Map<string, { obj: KubeObject; until: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Records an object the apiserver just returned from a create (only {@link RECENT_KINDS}). */
  record(obj: KubeObject): void {
    if (!RECENT_KINDS.has(obj.kind ?? '') || !obj.metadata?.name) return;
    this.#entries.set(refKey(obj), { obj, until: this.#now() + RECENT_CREATE_TTL_MS });
  }

  /** The created object under `ref`, while the cache has not shown it and the TTL has not run out. */
  get(ref: ObjectRef): KubeObject | undefined {
    const key = keyOf(ref);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (this.#now() > entry.until) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.obj;
  }

  /** The cache showed an event of `obj` (added, changed or deleted): from now on it is right. */
  seen(obj: KubeObject): void {
    if (this.#entries.size > 0) this.#entries.delete(refKey(obj));
  }

  get size(): number {
    return this.#entries.size;
  }
}
