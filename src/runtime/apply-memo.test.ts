// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { ApplyMemo, canonicalJson, containsFields } from './apply-memo.ts';

describe('containsFields', () => {
  const cases: Record<string, { live: unknown; desired: unknown; want: boolean }> = {
    'equal scalars': { live: 'a', desired: 'a', want: true },
    'different scalars': { live: '1000m', desired: '1', want: false },
    'extra live members are ignored': { live: { a: 1, b: 2, status: {} }, desired: { a: 1 }, want: true },
    'undefined desired members are ignored': { live: { a: 1 }, desired: { a: 1, b: undefined }, want: true },
    'a missing member': { live: { a: 1 }, desired: { a: 1, b: 2 }, want: false },
    'nested change': { live: { spec: { x: { y: 1 } } }, desired: { spec: { x: { y: 2 } } }, want: false },
    'scalar lists must be equal': { live: ['a', 'b', 'c'], desired: ['a', 'c'], want: false },
    'scalar lists in order': { live: ['a', 'b'], desired: ['a', 'b'], want: true },
    'object lists as an ordered subsequence': {
      live: [{ name: 'sidecar' }, { name: 'app', image: 'i', imagePullPolicy: 'Always' }, { name: 'other' }],
      desired: [{ name: 'app', image: 'i' }],
      want: true,
    },
    'object lists out of order': {
      live: [{ name: 'b' }, { name: 'a' }],
      desired: [{ name: 'a' }, { name: 'b' }],
      want: false,
    },
    'object meets array': { live: [], desired: {}, want: false },
    'null equals null': { live: null, desired: null, want: true },
  };
  for (const [name, { live, desired, want }] of Object.entries(cases)) {
    it(name, () => expect(containsFields(live, desired)).toBe(want));
  }
});

describe('canonicalJson', () => {
  it('ignores key order and undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 1, x: 2 }], c: undefined } })).toBe(
      canonicalJson({ a: { d: [1, { x: 2, y: 1 }] }, b: 1 }),
    );
  });
});

describe('ApplyMemo', () => {
  const body = { metadata: { name: 'a' }, spec: { x: 1 } };
  const live = { metadata: { name: 'a', uid: 'u' }, spec: { x: 1, defaulted: true } };

  it('skips only a remembered body whose fields are all live', () => {
    const memo = new ApplyMemo();
    expect(memo.canSkip('o', 'm/', body, live)).toBe(false);
    memo.remember('o', 'm/', body);
    expect(memo.canSkip('o', 'm/', body, live)).toBe(true);
    expect(memo.canSkip('o', 'm/', body, undefined)).toBe(false);
    expect(memo.canSkip('o', 'm/', { ...body, spec: {} }, live)).toBe(false);
    expect(memo.canSkip('o', 'other/', body, live)).toBe(false);
    expect(memo.canSkip('o', 'm/', body, { ...live, spec: { x: 2 } })).toBe(false);
    memo.forget('o');
    expect(memo.canSkip('o', 'm/', body, live)).toBe(false);
  });

  it('skips while the cache still holds the version it held when the apply was sent, and judges every later version by its fields', () => {
    const memo = new ApplyMemo();
    const before = { metadata: { name: 'a', resourceVersion: '10' }, spec: { x: 0 } };
    memo.remember('o', 'm/', body, before);
    // The cache has not caught up with our write: the watch will still bring it.
    expect(memo.canSkip('o', 'm/', body, before)).toBe(true);
    // A later version without our field (someone changed it after our write): applied again.
    expect(memo.canSkip('o', 'm/', body, { metadata: { name: 'a', resourceVersion: '12' }, spec: { x: 0 } })).toBe(false);
    expect(memo.canSkip('o', 'm/', body, { metadata: { name: 'a', resourceVersion: '11' }, spec: { x: 1 } })).toBe(true);
    // Another body is never skipped for the version alone.
    expect(memo.canSkip('o', 'm/', { ...body, spec: { x: 3 } }, before)).toBe(false);
    // Without a version in the cache when it was sent, only the fields count.
    memo.remember('p', 'm/', body, { metadata: { name: 'a' }, spec: { x: 0 } });
    expect(memo.canSkip('p', 'm/', body, { metadata: { name: 'a' }, spec: { x: 0 } })).toBe(false);
  });

  it('skips while the cache holds a version lower than the one its apply produced (decimal versions only)', () => {
    const memo = new ApplyMemo();
    memo.remember('o', 'm/', body, { metadata: { resourceVersion: '10' } }, { metadata: { resourceVersion: '15' } });
    // Version 12 (another writer's change from before our apply, e.g. a finalizer): our write is still to come.
    expect(memo.canSkip('o', 'm/', body, { metadata: { name: 'a', resourceVersion: '12' }, spec: {} })).toBe(true);
    expect(memo.canSkip('o', 'm/', body, { metadata: { name: 'a', resourceVersion: '9' }, spec: {} })).toBe(true);
    // Our version or a later one is judged by its fields.
    expect(memo.canSkip('o', 'm/', body, { metadata: { name: 'a', resourceVersion: '15' }, spec: {} })).toBe(false);
    expect(memo.canSkip('o', 'm/', body, { metadata: { name: 'a', resourceVersion: '100' }, spec: {} })).toBe(false);
    expect(memo.canSkip('o', 'm/', body, { metadata: { name: 'a', resourceVersion: '100' }, spec: { x: 1 } })).toBe(true);
    // Versions that are not decimal integers are never compared.
    memo.remember('p', 'm/', body, undefined, { metadata: { resourceVersion: 'b' } });
    expect(memo.canSkip('p', 'm/', body, { metadata: { name: 'a', resourceVersion: 'a' }, spec: {} })).toBe(false);
  });

  it('keeps every object used since the last capacity / 2 others, and forgets one no longer used', () => {
    const memo = new ApplyMemo(4);
    memo.remember('a', 's', body);
    memo.remember('b', 's', body);
    expect(memo.canSkip('a', 's', body, live)).toBe(true);
    memo.remember('c', 's', body);
    expect(memo.canSkip('b', 's', body, live)).toBe(false);
    expect(memo.canSkip('a', 's', body, live)).toBe(true);
    expect(memo.canSkip('c', 's', body, live)).toBe(true);
  });

  it('holds at most its capacity, however many objects pass', () => {
    const memo = new ApplyMemo(100);
    for (let i = 0; i < 10_000; i++) memo.remember(`o${i}`, 's', body);
    const kept = Array.from({ length: 10_000 }, (_, i) => memo.canSkip(`o${i}`, 's', body, live)).filter(Boolean).length;
    expect(kept).toBeGreaterThanOrEqual(50);
    expect(kept).toBeLessThanOrEqual(100);
  });
});
