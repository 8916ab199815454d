// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { comparable, needsWrite, SUMMARY_REFRESH_MS } from './status.ts';

describe('comparable', () => {
  it('sees the same status whatever the order of its keys (the apiserver returns its own order), so an idle quota is not rewritten', () => {
    const ours = { nextRun: 3, used: { sessions: 1, cpuMillis: 2000, memoryBytes: 8, gpus: 0 }, budgets: { gpuSecondsConsumed: 5, cpuMilliSecondsConsumed: 7, asOf: '2026-11-30T12:00:00Z' } };
    const stored = { budgets: { asOf: '2026-11-30T11:00:00Z', cpuMilliSecondsConsumed: 7, gpuSecondsConsumed: 5 }, used: { cpuMillis: 2000, gpus: 0, memoryBytes: 8, sessions: 1 }, nextRun: 3 };
    expect(comparable(ours)).toBe(comparable(stored));
  });

  it('sees a change of the ledger or of a condition, but not of a transition time', () => {
    const base = { nextRun: 3, conditions: [{ type: 'Ready', status: 'True' as const, reason: 'Enforcing', message: 'm', lastTransitionTime: '2026-11-30T11:00:00Z' }] };
    expect(comparable(base)).toBe(comparable({ ...base, conditions: [{ ...base.conditions[0]!, lastTransitionTime: '2026-11-30T12:00:00Z' }] }));
    expect(comparable(base)).not.toBe(comparable({ ...base, nextRun: 4 }));
    expect(comparable(base)).not.toBe(comparable({ ...base, conditions: [{ ...base.conditions[0]!, reason: 'Superseded' }] }));
  });

  it('writes budget hours that moved with the running sessions alone only once the stored ones are old enough', () => {
    const asOf = Date.parse('2026-11-30T12:00:00Z');
    const stored = { nextRun: 2, summary: { sessions: '1/1', gpus: '0/1', waiting: 1, cpuHours: '0.00/1000' }, budgets: { gpuSecondsConsumed: 0, cpuMilliSecondsConsumed: 0, asOf: '2026-11-30T12:00:00Z' } };
    const moved = { ...stored, summary: { ...stored.summary, cpuHours: '0.01/1000' }, budgets: { ...stored.budgets, asOf: '2026-11-30T12:00:10Z' } };
    expect(needsWrite(moved, stored, asOf + 10_000)).toBe(false);
    expect(needsWrite(moved, stored, asOf + SUMMARY_REFRESH_MS)).toBe(true);
    expect(needsWrite(stored, stored, asOf + SUMMARY_REFRESH_MS * 10)).toBe(false);
    // Any other change is written at once, with the hours of the moment.
    expect(needsWrite({ ...moved, summary: { ...moved.summary, waiting: 0 } }, stored, asOf + 10_000)).toBe(true);
    expect(needsWrite({ ...moved, nextRun: 3 }, stored, asOf + 10_000)).toBe(true);
  });
});
