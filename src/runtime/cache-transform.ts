// SPDX-License-Identifier: Apache-2.0
/**
 * Transforms that shrink objects before a reflector's store keeps them. Thousands of sessions mean thousands of
 * pods, claims and services that repeat the same strings (images, label keys and values, API versions) and the
 * same small parts (security contexts, tolerations, resources); the store freezes what it keeps, so equal parts
 * can be one shared object.
 */
import type { KubeObject } from './resource.ts';

/** Pod status fields nothing in the operator reads (addresses, QoS class, start time). */
const POD_STATUS_UNREAD = ['hostIP', 'hostIPs', 'podIP', 'podIPs', 'qosClass', 'startTime', 'resize', 'nominatedNodeName'] as const;
/** Container status fields nothing reads (the last run, allocated and actual resources, mounts, user). */
const CONTAINER_STATUS_UNREAD = ['lastState', 'allocatedResources', 'resources', 'volumeMounts', 'user', 'allocatedResourcesStatus', 'stopSignal'] as const;

type Json = Record<string, unknown>;

function without(obj: Json, keys: readonly string[]): Json {
  if (!keys.some((k) => k in obj)) return obj;
  const out: Json = {};
  for (const [k, v] of Object.entries(obj)) if (!keys.includes(k)) out[k] = v;
  return out;
}

function slimContainerStatuses(list: unknown): unknown {
  return Array.isArray(list) ? list.map((cs: unknown) => (cs && typeof cs === 'object' ? without(cs as Json, CONTAINER_STATUS_UNREAD) : cs)) : list;
}

/**
 * `pod` without the status fields the operator never reads: pod and host addresses, QoS class, start time,
 * and per container the last state, resources and mounts. Spec, metadata, conditions, phase, reason, message
 * and each container's name, image, imageID, ready, started, restart count and state are kept, so
 * observation, drift detection and the skip of unchanged applies see what they saw before. Other kinds and
 * pods without status are returned as they are.
 */
export function slimPod<T extends KubeObject>(obj: T): T {
  const status = (obj as Json).status as Json | undefined;
  if (obj.kind !== 'Pod' || !status || typeof status !== 'object') return obj;
  const slim = without(status, POD_STATUS_UNREAD);
  const out: Json = { ...slim };
  if ('containerStatuses' in slim) out.containerStatuses = slimContainerStatuses(slim.containerStatuses);
  if ('initContainerStatuses' in slim) out.initContainerStatuses = slimContainerStatuses(slim.initContainerStatuses);
  return { ...obj, status: out };
}

/** Options of {@link Interner}. */
export interface InternerOptions {
  /** Strings longer than this are kept as they are; default 256. */
  readonly maxStringLength?: number;
  /** Objects and arrays whose JSON is longer than this are not shared (their parts still are); default 512. */
  readonly maxPartLength?: number;
  /** The tables are emptied once they hold this many entries, so values of deleted objects do not pile up; default 200,000. */
  readonly maxEntries?: number;
}

/**
 * Makes equal strings one string and equal small JSON parts (objects and arrays, compared with key order)
 * one frozen object across everything it has seen (hash-consing). The part table holds a 32-bit hash of each
 * part's JSON, not the JSON, so a part seen once costs one table entry.
 *
 * Guarantees: `intern(v)` is deeply equal to `v`, with the same key order; members whose value is
 * `undefined` are dropped (as JSON would). Every object or array it returns that may be shared is frozen, so
 * the caller must never mutate the result (the store freezes what it keeps). The input is not changed.
 * Memory of the tables is bounded by `maxEntries`.
 * Assumptions: `v` is JSON data (no cycles, no class instances).
 * Caveats: after the tables are emptied, values seen before are no longer shared with new ones; two parts
 * whose hashes collide are simply not shared.
 */
export class Interner {
  readonly #maxString: number;
  readonly #maxPart: number;
  readonly #maxEntries: number;
  #strings = new Map<string, string>();
  #parts = new Map<number, unknown>();

  constructor(options: InternerOptions = {}) {
    this.#maxString = options.maxStringLength ?? 256;
    this.#maxPart = options.maxPartLength ?? 512;
    this.#maxEntries = options.maxEntries ?? 200_000;
  }

  /** Entries held now (strings and parts). */
  get size(): number {
    return this.#strings.size + this.#parts.size;
  }

  /** `value` with equal strings and small parts shared (see the class guarantees). */
  intern<T>(value: T): T {
    if (this.size > this.#maxEntries) {
      this.#strings = new Map();
      this.#parts = new Map();
    }
    return this.#value(value)[0] as T;
  }

  /** The interned copy of `value` and its JSON when that is at most `maxPartLength` long. */
  #value(value: unknown): [unknown, string | undefined] {
    if (typeof value === 'string') {
      const s = this.#string(value);
      return [s, s.length <= this.#maxPart ? JSON.stringify(s) : undefined];
    }
    if (value === null || typeof value !== 'object') return [value, JSON.stringify(value)];
    let key: string | undefined;
    let copy: unknown;
    if (Array.isArray(value)) {
      const items = value.map((v) => this.#value(v));
      copy = items.map(([v]) => v);
      key = this.#join('[', items.map(([, k]) => k), ']');
    } else {
      const out: Json = {};
      const keys: Array<string | undefined> = [];
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined) continue;
        const [child, childKey] = this.#value(v);
        const name = this.#string(k);
        out[name] = child;
        keys.push(childKey === undefined ? undefined : `${JSON.stringify(name)}:${childKey}`);
      }
      copy = out;
      key = this.#join('{', keys, '}');
    }
    return [key === undefined ? copy : this.#share(copy, key), key];
  }

  #join(open: string, keys: ReadonlyArray<string | undefined>, close: string): string | undefined {
    let length = 2;
    for (const k of keys) {
      if (k === undefined) return undefined;
      length += k.length + 1;
      if (length > this.#maxPart) return undefined;
    }
    return open + keys.join(',') + close;
  }

  #share(copy: unknown, key: string): unknown {
    const hash = fnv1a(key);
    const shared = this.#parts.get(hash);
    if (shared !== undefined && JSON.stringify(shared) === key) return shared;
    if (shared === undefined) this.#parts.set(hash, Object.freeze(copy));
    return copy;
  }

  #string(s: string): string {
    if (s.length > this.#maxString) return s;
    const shared = this.#strings.get(s);
    if (shared !== undefined) return shared;
    this.#strings.set(s, s);
    return s;
  }
}

/** 32-bit FNV-1a over UTF-16 code units. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The manager's default transform for every source: {@link slimPod}, then one {@link Interner} shared by all
 * sources (API versions, labels and names repeat across kinds). `managedFields` are already gone (the
 * reflector drops them first).
 */
export function slimObject(interner: Interner = new Interner()): <T extends KubeObject>(obj: T) => T {
  return (obj) => interner.intern(slimPod(obj));
}
