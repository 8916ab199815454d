// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { findCondition, formatTime, isConditionTrue, setCondition, statusEqual, truncateMessage } from './conditions.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0, 345);
const T1 = T0 + 60_000;

describe('setCondition', () => {
  it('stamps a new condition and appends it', () => {
    const out = setCondition([], { type: 'Ready', status: 'Unknown', reason: 'Reconciling', observedGeneration: 3 }, T0);
    expect(out).toEqual([
      { type: 'Ready', status: 'Unknown', reason: 'Reconciling', message: '', observedGeneration: 3, lastTransitionTime: '2026-01-01T12:00:00Z' },
    ]);
  });

  it('keeps lastTransitionTime when only the reason or message changes', () => {
    const first = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'PodPending', message: 'a' }, T0);
    const second = setCondition(first, { type: 'Ready', status: 'False', reason: 'ImagePullBackOff', message: 'b' }, T1);
    expect(second[0]?.lastTransitionTime).toBe(formatTime(T0));
    expect(second[0]?.reason).toBe('ImagePullBackOff');
    const third = setCondition(second, { type: 'Ready', status: 'True', reason: 'PodReady' }, T1);
    expect(third[0]?.lastTransitionTime).toBe(formatTime(T1));
  });

  it('replaces in place, leaves the input untouched and is idempotent', () => {
    const input = Object.freeze([
      Object.freeze({ type: 'A', status: 'True' as const, reason: 'Ok', message: '', lastTransitionTime: formatTime(T0) }),
      Object.freeze({ type: 'B', status: 'True' as const, reason: 'Ok', message: '', lastTransitionTime: formatTime(T0) }),
    ]);
    const once = setCondition(input, { type: 'A', status: 'False', reason: 'Broken' }, T1);
    const twice = setCondition(once, { type: 'A', status: 'False', reason: 'Broken' }, T1 + 5_000);
    expect(once.map((c) => c.type)).toEqual(['A', 'B']);
    expect(twice).toEqual(once);
    expect(input[0]?.status).toBe('True');
  });

  it('truncates long messages and rejects invalid reasons and types', () => {
    const out = setCondition([], { type: 'Ready', status: 'False', reason: 'Failed', message: 'x'.repeat(5000) }, T0);
    expect(out[0]?.message).toHaveLength(1024);
    expect(out[0]?.message.endsWith('…')).toBe(true);
    expect(() => setCondition([], { type: 'Ready', status: 'False', reason: 'not valid!' }, T0)).toThrow(RangeError);
    expect(() => setCondition([], { type: 'bad type', status: 'False', reason: 'Ok' }, T0)).toThrow(RangeError);
  });

  it('finds conditions', () => {
    const out = setCondition([], { type: 'Ready', status: 'True', reason: 'Ok' }, T0);
    expect(findCondition(out, 'Ready')?.reason).toBe('Ok');
    expect(isConditionTrue(out, 'Ready')).toBe(true);
    expect(isConditionTrue(out, 'Other')).toBe(false);
  });
});

describe('truncateMessage', () => {
  it('never splits a surrogate pair', () => {
    const cut = truncateMessage(`${'a'.repeat(8)}😀😀`, 10);
    expect(cut).toBe(`${'a'.repeat(8)}…`);
  });
});

describe('statusEqual', () => {
  const ready = { type: 'Ready', status: 'True', reason: 'Ok', message: '', lastTransitionTime: 't' };
  const mounted = { type: 'MountsBound', status: 'True', reason: 'Ok', message: '', lastTransitionTime: 't' };
  it('ignores key order, undefined members and condition order', () => {
    expect(statusEqual({ phase: undefined, conditions: [ready, mounted], url: 'u' }, { url: 'u', conditions: [mounted, ready] })).toBe(true);
  });
  it('sees a changed condition', () => {
    expect(statusEqual({ conditions: [ready] }, { conditions: [{ ...ready, status: 'False' }] })).toBe(false);
  });
});
