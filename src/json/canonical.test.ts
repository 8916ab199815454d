// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.ts';

/** The definition: JSON.stringify with every object rebuilt with its keys sorted (defined, so a key `__proto__` stays a member). */
function reference(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
  });
}

describe('canonicalJson', () => {
  it('gives exactly the text of the definition for any JSON-like value (hashes stored in pods stay the same)', () => {
    const anything = fc.anything({ withDate: true, withSparseArray: true, withNullPrototype: false, withBoxedValues: false, withMap: false, withSet: false, withTypedArray: false, withBigInt: false, withObjectString: false });
    fc.assert(fc.property(anything, (v) => {
      expect(canonicalJson(v)).toBe(reference(v));
    }), { numRuns: 5000 });
  });

  it('orders array-index keys first, numerically, drops undefined and functions from objects and writes them as null in arrays', () => {
    const v = { b: 1, '2': 'x', '10': [undefined, () => 1, Number.NaN, -0, 1e21, new Date(0)], a: { z: undefined, y: null }, '01': 1, '-1': 2 };
    expect(canonicalJson(v)).toBe('{"2":"x","10":[null,null,null,0,1e+21,"1970-01-01T00:00:00.000Z"],"-1":2,"01":1,"a":{"y":null},"b":1}');
    expect(canonicalJson(v)).toBe(reference(v));
  });
});
