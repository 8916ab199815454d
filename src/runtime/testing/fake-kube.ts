// SPDX-License-Identifier: Apache-2.0
import { ApplyMemo } from '../apply-memo.ts';
import type { ApplyOptions, ApplyOutcome, DeleteOptions, JsonPatchOp, KubeClient, ListOptions, WriteCounts } from '../kube.ts';
import { KubeApiError } from '../kube-http.ts';
import { refOf, type KubeObject, type ObjectRef } from '../resource.ts';
import type { ChangeType } from '../store.ts';
import { applyJsonPatch } from './json-patch.ts';

const idOf = (ref: ObjectRef): string => `${ref.apiVersion}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;

/**
 * An in-memory {@link KubeClient} for unit tests of reconcilers and helpers.
 *
 * What it models: resourceVersion, uid and generation bumps; 404/409/422 errors; finalizers and
 * `deletionTimestamp` (delete only marks an object that still has finalizers; it disappears when the last one is
 * removed); JSON Patch; the apply-skip rule (with its own state as the live view).
 * Caveats: `apply` deep-merges the desired object into the stored one (lists replaced), which is not server-side
 * apply (no field ownership, no removal of dropped fields); there is no validation, defaulting or garbage
 * collection. Integration tests against a real API server are the reference.
 */
export class FakeKube implements KubeClient {
  readonly writes: WriteCounts = { apply: 0, applyStatus: 0, delete: 0, patch: 0, create: 0, replace: 0, replaceStatus: 0 };
  readonly skipped = { apply: 0, applyStatus: 0 };
  readonly #objects = new Map<string, KubeObject>();
  readonly #memo = new ApplyMemo();
  readonly #listeners = new Set<(type: ChangeType, obj: KubeObject) => void>();
  #rv = 1;
  #uid = 1;
  /** Milliseconds since the epoch, for `deletionTimestamp`. */
  now: () => number = () => Date.UTC(2026, 0, 1);

  /** Registers a listener for every stored change (to feed a store in tests). */
  onChange(listener: (type: ChangeType, obj: KubeObject) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Stores an object as if created by someone else (no write counted). */
  seed<T extends KubeObject>(obj: T): T {
    return this.#store(obj, undefined) as T;
  }

  async get<T extends KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    const obj = this.#objects.get(idOf(ref));
    return obj === undefined ? undefined : (structuredClone(obj) as T);
  }

  async list<T extends KubeObject>(kind: { apiVersion: string; kind: string }, options: ListOptions = {}): Promise<T[]> {
    return [...this.#objects.values()]
      .filter((o) => o.apiVersion === kind.apiVersion && o.kind === kind.kind)
      .filter((o) => options.namespace === undefined || o.metadata?.namespace === options.namespace)
      .map((o) => structuredClone(o) as T);
  }

  async apply<T extends KubeObject>(desired: T, options: ApplyOptions): Promise<ApplyOutcome<T>> {
    return this.#apply(refOf(desired), desired, `${options.fieldManager}/`, 'apply');
  }

  async applyStatus<T extends KubeObject>(ref: ObjectRef, status: unknown, options: ApplyOptions): Promise<ApplyOutcome<T>> {
    if (!this.#objects.has(idOf(ref))) throw new KubeApiError(404, 'NotFound', `${ref.kind} ${ref.name} not found`);
    const body = { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace }, status };
    return this.#apply(ref, body, `${options.fieldManager}/status`, 'applyStatus');
  }

  async delete(ref: ObjectRef, options: DeleteOptions = {}): Promise<boolean> {
    this.writes.delete += 1;
    this.#memo.forget(idOf(ref));
    const obj = this.#objects.get(idOf(ref));
    if (!obj) return false;
    const uid = options.preconditions?.uid;
    if (uid !== undefined && obj.metadata?.uid !== uid) throw new KubeApiError(409, 'Conflict', 'uid precondition failed');
    if ((obj.metadata?.finalizers ?? []).length === 0) {
      this.#remove(obj);
    } else if (obj.metadata?.deletionTimestamp === undefined) {
      this.#store({ ...obj, metadata: { ...obj.metadata, deletionTimestamp: new Date(this.now()).toISOString() } }, obj);
    }
    return true;
  }

  async jsonPatch<T extends KubeObject>(ref: ObjectRef, ops: readonly JsonPatchOp[]): Promise<T> {
    this.writes.patch += 1;
    const obj = this.#require(ref);
    return this.#store(applyJsonPatch(obj, ops), obj) as T;
  }

  async create<T extends KubeObject>(obj: T): Promise<T> {
    this.writes.create += 1;
    if (this.#objects.has(idOf(refOf(obj)))) throw new KubeApiError(409, 'AlreadyExists', `${obj.kind} exists`);
    return this.#store(obj, undefined) as T;
  }

  async createApplied<T extends KubeObject>(desired: T, options: ApplyOptions): Promise<ApplyOutcome<T>> {
    const object = await this.create(desired);
    this.#memo.remember(idOf(refOf(desired)), `${options.fieldManager}/`, desired);
    return { written: true, object };
  }

  async replace<T extends KubeObject>(obj: T): Promise<T> {
    this.writes.replace += 1;
    const old = this.#require(refOf(obj));
    const rv = obj.metadata?.resourceVersion;
    if (rv !== undefined && rv !== old.metadata?.resourceVersion) throw new KubeApiError(409, 'Conflict', 'stale resourceVersion');
    return this.#store(obj, old) as T;
  }

  async replaceStatus<T extends KubeObject>(obj: T): Promise<T> {
    this.writes.replaceStatus += 1;
    const old = this.#require(refOf(obj));
    const rv = obj.metadata?.resourceVersion;
    if (rv === undefined) throw new TypeError('replaceStatus needs metadata.resourceVersion');
    if (rv !== old.metadata?.resourceVersion) throw new KubeApiError(409, 'Conflict', 'stale resourceVersion');
    return this.#store({ ...old, status: structuredClone((obj as { status?: unknown }).status) } as KubeObject, old) as T;
  }

  #apply<T extends KubeObject>(ref: ObjectRef, body: KubeObject, slot: string, verb: 'apply' | 'applyStatus'): ApplyOutcome<T> {
    const id = idOf(ref);
    const live = this.#objects.get(id);
    if (this.#memo.canSkip(id, slot, body, live)) {
      this.skipped[verb] += 1;
      return { written: false };
    }
    this.writes[verb] += 1;
    const merged = live === undefined ? structuredClone(body) : (merge(live, body) as KubeObject);
    const object = this.#store(merged, live) as T;
    this.#memo.remember(id, slot, body);
    return { written: true, object };
  }

  #require(ref: ObjectRef): KubeObject {
    const obj = this.#objects.get(idOf(ref));
    if (!obj) throw new KubeApiError(404, 'NotFound', `${ref.kind} ${ref.name} not found`);
    return obj;
  }

  #store(next: KubeObject, old: KubeObject | undefined): KubeObject {
    if (old !== undefined && JSON.stringify(old) === JSON.stringify(next)) return structuredClone(old);
    if (old?.metadata?.deletionTimestamp !== undefined && (next.metadata?.finalizers ?? []).length === 0) {
      this.#remove(old);
      return structuredClone(next);
    }
    const specChanged = old === undefined || JSON.stringify(withoutMeta(old)) !== JSON.stringify(withoutMeta(next));
    const metadata = {
      ...next.metadata,
      uid: old?.metadata?.uid ?? next.metadata?.uid ?? `uid-${this.#uid++}`,
      resourceVersion: String(++this.#rv),
      generation: (old?.metadata?.generation ?? 0) + (specChanged ? 1 : 0),
    };
    const stored = { ...structuredClone(next), metadata };
    this.#objects.set(idOf(refOf(stored)), stored);
    this.#notify(old === undefined ? 'ADDED' : 'MODIFIED', stored);
    return structuredClone(stored);
  }

  #remove(obj: KubeObject): void {
    this.#objects.delete(idOf(refOf(obj)));
    this.#notify('DELETED', { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.#rv) } });
  }

  #notify(type: ChangeType, obj: KubeObject): void {
    for (const listener of this.#listeners) listener(type, structuredClone(obj));
  }
}

function withoutMeta(obj: KubeObject): unknown {
  const { metadata: _m, status: _s, ...rest } = obj as KubeObject & { status?: unknown };
  return rest;
}

function merge(live: unknown, desired: unknown): unknown {
  if (desired === null || typeof desired !== 'object' || Array.isArray(desired)) return structuredClone(desired);
  const out: Record<string, unknown> = { ...(live !== null && typeof live === 'object' && !Array.isArray(live) ? live : {}) };
  for (const [k, v] of Object.entries(desired)) if (v !== undefined) out[k] = merge(out[k], v);
  return out;
}
