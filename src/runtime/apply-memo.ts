// SPDX-License-Identifier: Apache-2.0
import { hash } from 'node:crypto';
import { canonicalJson } from '../json/canonical.ts';

export { canonicalJson };

/**
 * True when every field set in `desired` has the same value in `live` (the fields we apply are all still in
 * place). The rule, exactly:
 * - scalars (string, number, boolean, null) must be strictly equal;
 * - an object must meet an object that contains each of its members whose value is not `undefined`;
 *   members only in `live` (server defaults, other managers' fields, status) are ignored;
 * - an array of scalars must equal the live array (same length, same order): such lists are atomic or sets;
 * - an array with objects must match, element by element and in order, a subsequence of the live array, so
 *   elements merged in by others (injected containers, default tolerations) are ignored.
 *
 * Caveats: values the server normalises differ textually and make this false on every pass, costing one
 * no-op apply per reconcile: write quantities canonically (`"1"`, not `"1000m"`), and do not set fields the
 * server rewrites.
 */
export function containsFields(live: unknown, desired: unknown): boolean {
  if (desired === null || typeof desired !== 'object') return live === desired;
  if (Array.isArray(desired)) return Array.isArray(live) && containsArray(live, desired);
  if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
  const liveRecord = live as Record<string, unknown>;
  return Object.entries(desired).every(([k, v]) => v === undefined || containsFields(liveRecord[k], v));
}

function containsArray(live: readonly unknown[], desired: readonly unknown[]): boolean {
  if (desired.every((item) => item === null || typeof item !== 'object')) {
    return live.length === desired.length && desired.every((item, i) => live[i] === item);
  }
  let next = 0;
  for (const item of desired) {
    while (next < live.length && !containsFields(live[next], item)) next += 1;
    if (next === live.length) return false;
    next += 1;
  }
  return true;
}

/**
 * Remembers, per object and field manager, the last body applied successfully, to skip applies that would
 * change nothing. It keeps a SHA-256 digest of the body's {@link canonicalJson}, not the body (about 60 bytes
 * per slot, whatever the body's size).
 *
 * The skip rule: an apply is skipped when (1) the body is canonically equal to the last one this process
 * applied for the same object, field manager and subresource, and (2) the live object (from the caller's
 * cache) {@link containsFields | contains every field of the body}, or is a version from before that apply
 * (the very version the cache held when it was sent, or, where versions are decimal integers as the
 * apiserver's etcd revisions are, one lower than the version the apply produced): the cache has not caught
 * up with our own write yet. (1) ensures the set of fields we own is unchanged (a field dropped from the body
 * must be sent, so the server removes it); (2) ensures nobody changed or deleted what we set: a cache that
 * lags behind our write will still deliver it, and every change after it, as watch events, each judged
 * again then.
 *
 * Guarantees: never skips without a live object, nor after a failed apply or a delete through the client.
 * Caveats: memory is per process, so after a restart every object is applied once more; at most `capacity`
 * objects are remembered, and every object used since the last `capacity / 2` others is (two generations: when
 * the recent one is full it becomes the older one and the older one is dropped; an object used from the older
 * one moves to the recent one). An object forgotten this way is simply applied again. Each call costs O(1) also
 * when far more objects pass than fit, where a Map kept in use order and evicted from its front slowed down with
 * the deleted entries it skips.
 */
export class ApplyMemo {
  readonly #half: number;
  /** Per object, per slot: the digest of the last body applied, and the version the cache held when it was sent. */
  #recent = new Map<string, Map<string, Applied>>();
  /** The generation before {@link #recent}, dropped when the recent one fills up. */
  #older = new Map<string, Map<string, Applied>>();

  constructor(capacity = 10_000) {
    this.#half = Math.max(1, Math.floor(capacity / 2));
  }

  /**
   * True when the apply of `body` under `slot` (field manager and subresource) can be skipped. `digest` stands
   * for the body's: give it when the caller already hashed the body ({@link memoDigest}), the same way for
   * every body of the slot.
   */
  canSkip(objectId: string, slot: string, body: unknown, live: unknown, digest?: string): boolean {
    if (live === undefined) return false;
    const applied = this.#slots(objectId)?.get(slot);
    if (applied === undefined || applied.digest !== (digest ?? memoDigest(body))) return false;
    const version = versionOf(live);
    return (version !== undefined && (version === applied.cachedVersion || olderThan(version, applied.writtenVersion))) || containsFields(live, body);
  }

  /**
   * Records a successful apply; `cachedBefore` is the object as the caller's cache held it when the apply was
   * sent (undefined: not in the cache), `written` the object the apply returned; `digest` as for {@link canSkip}.
   */
  remember(objectId: string, slot: string, body: unknown, cachedBefore?: unknown, written?: unknown, digest?: string): void {
    const slots = this.#slots(objectId) ?? this.#add(objectId, new Map<string, Applied>());
    slots.set(slot, { digest: digest ?? memoDigest(body), cachedVersion: cachedBefore === undefined ? undefined : versionOf(cachedBefore), writtenVersion: written === undefined ? undefined : versionOf(written) });
  }

  /** Forgets one slot (after a failed apply) or the whole object (after a delete). */
  forget(objectId: string, slot?: string): void {
    if (slot === undefined) {
      this.#recent.delete(objectId);
      this.#older.delete(objectId);
    } else {
      this.#recent.get(objectId)?.delete(slot);
      this.#older.get(objectId)?.delete(slot);
    }
  }

  /** The object's slots, moved to the recent generation when found in the older one. */
  #slots(objectId: string): Map<string, Applied> | undefined {
    const recent = this.#recent.get(objectId);
    if (recent !== undefined) return recent;
    const older = this.#older.get(objectId);
    if (older === undefined) return undefined;
    this.#older.delete(objectId);
    return this.#add(objectId, older);
  }

  #add(objectId: string, slots: Map<string, Applied>): Map<string, Applied> {
    this.#recent.set(objectId, slots);
    if (this.#recent.size >= this.#half) {
      this.#older = this.#recent;
      this.#recent = new Map();
    }
    return slots;
  }
}

interface Applied {
  digest: string;
  cachedVersion?: string;
  writtenVersion?: string;
}

const DECIMAL = /^[1-9]\d*$/;

/** True when both versions are decimal integers and `version` is the lower. */
function olderThan(version: string, written: string | undefined): boolean {
  return written !== undefined && DECIMAL.test(version) && DECIMAL.test(written) && (version.length < written.length || (version.length === written.length && version < written));
}

function versionOf(obj: unknown): string | undefined {
  const version = (obj as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
  return typeof version === 'string' && version !== '' ? version : undefined;
}

/** SHA-256 (base64) of the canonical JSON of `body`: equal for canonically equal bodies. */
export function memoDigest(body: unknown): string {
  return hash('sha256', canonicalJson(body), 'base64');
}
