// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.ts';
import { jsonEqual } from './equal.ts';

/** The definition: equal canonical text, after dropping object members that are empty arrays when asked. */
function byText(a: unknown, b: unknown, emptyListIsAbsent: boolean): boolean {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!(Array.isArray(x) && x.length === 0)) out[k] = strip(x);
    return out;
  };
  return emptyListIsAbsent ? canonicalJson(strip(a)) === canonicalJson(strip(b)) : canonicalJson(a) === canonicalJson(b);
}

const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(null, undefined, true, false, 0, -0, 1, Number.NaN, Number.POSITIVE_INFINITY, '', 'a', 'b', [], {}),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'c', '0', '1'), tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('jsonEqual', () => {
  it('agrees with comparing canonical JSON text, with and without empty lists as absent', () => {
    fc.assert(
      fc.property(json, json, fc.boolean(), (a, b, emptyListIsAbsent) => {
        expect(jsonEqual(a, b, { emptyListIsAbsent })).toBe(byText(a, b, emptyListIsAbsent));
        expect(jsonEqual(a, structuredClone(a), { emptyListIsAbsent })).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('ignores member order, counts undefined members as absent and undefined array items as null', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 'x' }] }, { b: [1, { c: 'x' }], a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1, gone: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual([undefined], [null])).toBe(true);
    expect(jsonEqual({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: null })).toBe(false);
  });

  it('honours toJSON once, as JSON.stringify does', () => {
    const at = new Date(0);
    expect(jsonEqual({ at }, { at: at.toISOString() })).toBe(true);
    expect(jsonEqual({ at }, { at: new Date(1) })).toBe(false);
  });

  it('treats empty lists as absent only when asked', () => {
    expect(jsonEqual({ ports: [], to: [{ a: [] }] }, { to: [{}] }, { emptyListIsAbsent: true })).toBe(true);
    expect(jsonEqual({ ports: [] }, {})).toBe(false);
  });
});
