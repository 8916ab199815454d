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
 * one frozen object across everything it has seen (hash-consing). Parts are built bottom-up, so two equal
 * parts have identical members: a 32-bit hash finds the candidate and a shallow identity comparison confirms
 * it; no JSON text is made.
 *
 * Guarantees: `intern(v)` is deeply equal to `v`, with the same key order; members whose value is
 * `undefined` are dropped (as JSON would). Every object or array it returns that may be shared is frozen, so
 * the caller must never mutate the result (the store freezes what it keeps). The input is not changed.
 * Memory of the tables is bounded by `maxEntries`; cost is linear in the size of `v`.
 * Assumptions: `v` is JSON data (no cycles, no class instances).
 * Caveats: after the tables are emptied, values seen before are no longer shared with new ones; two parts
 * whose hashes collide are simply not shared.
 */
export class Interner {
  readonly #maxString: number;
  readonly #maxPart: number;
  readonly #maxEntries: number;
  #strings = new Map<string, string>();
  #parts = new Map<number, object>();
  /** Hashes of member names (few distinct ones: the schema's field names and label keys). */
  #names = new Map<string, number>();
  /** Hash and approximate JSON length of the value {@link Interner.#value} returned last. */
  #hash = 0;
  #size = 0;

  constructor(options: InternerOptions = {}) {
    this.#maxString = options.maxStringLength ?? 256;
    this.#maxPart = options.maxPartLength ?? 512;
    this.#maxEntries = options.maxEntries ?? 200_000;
  }

  /** Entries held now (strings and parts). */
  get size(): number {
    return this.#strings.size + this.#parts.size + this.#names.size;
  }

  /** `value` with equal strings and small parts shared (see the class guarantees). */
  intern<T>(value: T): T {
    if (this.size > this.#maxEntries) {
      this.#strings = new Map();
      this.#parts = new Map();
      this.#names = new Map();
    }
    return this.#value(value) as T;
  }

  #value(value: unknown): unknown {
    if (typeof value === 'string') {
      const s = this.#string(value);
      this.#hash = fnv1a(s, 0x73);
      this.#size = s.length + 2;
      return s;
    }
    if (value === null || typeof value !== 'object') {
      this.#hash = fnv1a(String(value), 0x6e);
      this.#size = 8;
      return value;
    }
    let hash: number;
    let size = 2;
    let copy: unknown[] | Json;
    if (Array.isArray(value)) {
      hash = 0x5b;
      copy = new Array<unknown>(value.length);
      for (let i = 0; i < value.length; i++) {
        copy[i] = this.#value(value[i]);
        hash = mix(hash, this.#hash);
        size += this.#size + 1;
      }
    } else {
      hash = 0x7b;
      copy = {};
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined) continue;
        const child = this.#value(v);
        const name = this.#string(k);
        // A JSON key "__proto__" is an own member, never the prototype.
        if (name === '__proto__') Object.defineProperty(copy, name, { value: child, enumerable: true, writable: true, configurable: true });
        else copy[name] = child;
        hash = mix(mix(hash, this.#nameHash(name)), this.#hash);
        size += this.#size + name.length + 4;
      }
    }
    this.#hash = hash;
    this.#size = size;
    return size > this.#maxPart ? copy : this.#share(copy, hash);
  }

  #share(copy: object, hash: number): object {
    const shared = this.#parts.get(hash);
    if (shared === undefined) {
      this.#parts.set(hash, Object.freeze(copy));
      return copy;
    }
    return sameMembers(shared, copy) ? shared : copy;
  }

  #nameHash(name: string): number {
    let hash = this.#names.get(name);
    if (hash === undefined) this.#names.set(name, (hash = fnv1a(name, 0x6b)));
    return hash;
  }

  #string(s: string): string {
    if (s.length > this.#maxString) return s;
    const shared = this.#strings.get(s);
    if (shared !== undefined) return shared;
    this.#strings.set(s, s);
    return s;
  }
}

/** True when `a` and `b` are both arrays or both plain objects with identical members in the same order. */
function sameMembers(a: object, b: object): boolean {
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i] || (a as Json)[ka[i]!] !== (b as Json)[kb[i]!]) return false;
  }
  return true;
}

/** 32-bit FNV-1a over UTF-16 code units, seeded with a type tag. */
function fnv1a(s: string, tag: number): number {
  let h = Math.imul(0x811c9dc5 ^ tag, 0x01000193);
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Order-dependent combination of two 32-bit hashes. */
function mix(h: number, x: number): number {
  return (Math.imul(h ^ x, 0x01000193) + ((h << 6) ^ (h >>> 2))) >>> 0;
}

/**
 * The manager's default transform for every source: {@link slimPod}, then one {@link Interner} shared by all
 * sources (API versions, labels and names repeat across kinds). `managedFields` are already gone (the
 * reflector drops them first).
 */
export function slimObject(interner: Interner = new Interner()): <T extends KubeObject>(obj: T) => T {
  return (obj) => interner.intern(slimPod(obj));
}
