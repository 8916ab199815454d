// SPDX-License-Identifier: Apache-2.0
/**
 * JSON equality (pure): whether two values give the same {@link canonicalJson} text,
 * decided by walking both at once instead of writing either out. Reconciles compare the
 * desired and the live parts of every child on each pass, so the walk stops at the first
 * difference and allocates nothing.
 *
 * Exactly as canonical JSON sees values: member order is ignored; members whose value gives
 * no JSON (`undefined`, functions, symbols) are absent; such values in arrays are `null`;
 * non-finite numbers are `null`; `toJSON` is honoured.
 */
import { canonicalJson } from './canonical.ts';

/** Options of {@link jsonEqual}. */
export interface JsonEqualOptions {
  /** An object member holding an empty array counts as absent (specs where `[]` means the same as no list). */
  readonly emptyListIsAbsent?: boolean;
}

/** True when `canonicalJson(a) === canonicalJson(b)` (with `emptyListIsAbsent`: after dropping members that are empty arrays). */
export function jsonEqual(a: unknown, b: unknown, options: JsonEqualOptions = {}): boolean {
  return equal(unwrap(a), unwrap(b), options.emptyListIsAbsent === true);
}

function unwrap(value: unknown): unknown {
  return value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function' ? (value as { toJSON(): unknown }).toJSON() : value;
}

/** A value that gives no JSON text. */
const absent = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/** A value written as a JSON object, as opposed to a scalar or an array. */
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Number || v instanceof String || v instanceof Boolean);

/** `a` and `b` have had their `toJSON` applied (once, as canonical JSON does). */
function equal(a: unknown, b: unknown, emptyListIsAbsent: boolean): boolean {
  // One object (parts shared by interning, or simply unchanged): the same text.
  if (a === b && a !== null && typeof a === 'object') return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      const u = unwrap(a[i]);
      const v = unwrap(b[i]);
      if (!equal(absent(u) ? null : u, absent(v) ? null : v, emptyListIsAbsent)) return false;
    }
    return true;
  }
  if (isPlainObject(a) && isPlainObject(b)) return equalObjects(a, b, emptyListIsAbsent);
  if (isPlainObject(a) || isPlainObject(b)) return false;
  if (a === b && (typeof a !== 'number' || Number.isFinite(a))) return true;
  return canonicalJson(a) === canonicalJson(b);
}

function member(obj: Record<string, unknown>, key: string, emptyListIsAbsent: boolean): unknown {
  const value = unwrap(obj[key]);
  if (absent(value) || (emptyListIsAbsent && Array.isArray(value) && value.length === 0)) return undefined;
  return value;
}

function equalObjects(a: Record<string, unknown>, b: Record<string, unknown>, emptyListIsAbsent: boolean): boolean {
  let present = 0;
  for (const key of Object.keys(a)) {
    const u = member(a, key, emptyListIsAbsent);
    if (u === undefined) continue;
    present++;
    if (!Object.hasOwn(b, key)) return false;
    const v = member(b, key, emptyListIsAbsent);
    if (v === undefined || !equal(u, v, emptyListIsAbsent)) return false;
  }
  for (const key of Object.keys(b)) if (member(b, key, emptyListIsAbsent) !== undefined) present--;
  return present === 0;
}
