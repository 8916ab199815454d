// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { chargeOf, envelopeOf, limitsInForce, limitsOf } from './quota-limits.ts';
import { formatTime } from '../runtime/conditions.ts';
import type { ResourceQuotaSpec } from '../api/v1alpha1/resource-quota.ts';

const at = (hhmmss: string): number => Date.parse(`2026-11-30T${hhmmss}Z`);
const GI = 2 ** 30;

/** spec.hard outside windows; the beamtime 10:00–18:00, then a quieter window 18:00–20:00. */
const beamtime: ResourceQuotaSpec = {
  hard: { sessions: 4, gpus: 1, cpu: '8', gpusPerFlavour: { a100: 1 }, maxSessionDuration: '8h' },
  windows: [
    { name: 'post-beamtime', start: '2026-11-30T18:00:00Z', end: '2026-11-30T20:00:00Z', hard: { sessions: 2, gpus: 0, cpu: '4', gpusPerFlavour: { a100: 0 }, maxSessionDuration: '4h' } },
    { name: 'beamtime', start: '2026-11-30T10:00:00Z', end: '2026-11-30T18:00:00Z', hard: { sessions: 12, gpus: 4, cpu: '32', gpusPerFlavour: { a100: 2 }, maxSessionDuration: '12h' } },
  ],
};

describe('limitsOf', () => {
  it('turns quantities and durations into base units', () => {
    expect(limitsOf({ sessions: 3, sessionsPerUser: 1, cpu: '1500m', memory: '16Gi', gpus: 2, gpusPerFlavour: { a100: 1 }, maxSessionDuration: '1h30m' })).toEqual({
      sessions: 3, sessionsPerUser: 1, cpuMillis: 1500, memoryBytes: 16 * GI, gpus: 2, gpusPerFlavour: { a100: 1 }, maxSessionDurationMs: 5_400_000,
    });
  });

  it('leaves absent limits absent (unlimited) and keeps 0 (forbidden)', () => {
    expect(limitsOf(undefined)).toEqual({});
    expect(limitsOf({})).toEqual({});
    // As written to the API (JSON): cpuMillis('0') is -0, which JSON writes as 0.
    expect(JSON.parse(JSON.stringify(limitsOf({ sessions: 0, gpus: 0, cpu: '0' })))).toEqual({ sessions: 0, gpus: 0, cpuMillis: 0 });
  });

  it('treats a value that does not parse as absent', () => {
    expect(limitsOf({ cpu: 'lots', memory: '1 Gi', maxSessionDuration: 'forever', sessions: 2 })).toEqual({ sessions: 2 });
  });

  it('copies gpusPerFlavour, so editing the result leaves the spec alone', () => {
    const hard = { gpusPerFlavour: { a100: 1 } };
    limitsOf(hard).gpusPerFlavour!.a100 = 5;
    expect(hard.gpusPerFlavour.a100).toBe(1);
  });
});

describe('limitsInForce', () => {
  it.each([
    ['before any window', '09:59:59.999', 'spec.hard', undefined, 4, at('10:00:00')],
    ['at the start of the beamtime (inclusive)', '10:00:00', 'spec.windows[beamtime].hard', 'beamtime', 12, at('18:00:00')],
    ['in the last millisecond of the beamtime', '17:59:59.999', 'spec.windows[beamtime].hard', 'beamtime', 12, at('18:00:00')],
    ['at the end of the beamtime (exclusive), the start of the next window', '18:00:00', 'spec.windows[post-beamtime].hard', 'post-beamtime', 2, at('20:00:00')],
    ['after the last window', '20:00:00', 'spec.hard', undefined, 4, undefined],
  ] as const)('%s', (_, time, field, window, sessions, nextChange) => {
    const inForce = limitsInForce(beamtime, at(time));
    expect(inForce.field).toBe(field);
    expect(inForce.window).toBe(window);
    expect(inForce.limits.sessions).toBe(sessions);
    expect(inForce.nextChange).toBe(nextChange);
  });

  it('gives the hard limits as written and in base units', () => {
    const inForce = limitsInForce(beamtime, at('11:00:00'));
    expect(inForce.hard).toEqual(beamtime.windows![1]!.hard);
    expect(inForce.limits).toEqual({ sessions: 12, gpus: 4, cpuMillis: 32_000, gpusPerFlavour: { a100: 2 }, maxSessionDurationMs: 12 * 3_600_000 });
  });

  it('applies spec.hard for ever when there is no window', () => {
    const inForce = limitsInForce({ hard: { sessions: 4 } }, at('12:00:00'));
    expect(inForce).toEqual({ field: 'spec.hard', hard: { sessions: 4 }, limits: { sessions: 4 }, nextChange: undefined });
  });

  it('has no limit at all for an empty spec', () => {
    expect(limitsInForce({}, at('12:00:00'))).toEqual({ field: 'spec.hard', hard: {}, limits: {}, nextChange: undefined });
  });

  it('lifts every limit in a window without hard', () => {
    const spec: ResourceQuotaSpec = { hard: { sessions: 1 }, windows: [{ name: 'open', start: '2026-11-30T10:00:00Z', end: '2026-11-30T11:00:00Z' }] };
    expect(limitsInForce(spec, at('10:30:00'))).toMatchObject({ window: 'open', hard: {}, limits: {}, nextChange: at('11:00:00') });
  });

  it('ignores a window that ends before it starts (the schema refuses it)', () => {
    const spec: ResourceQuotaSpec = { hard: { sessions: 1 }, windows: [{ name: 'broken', start: '2026-11-30T11:00:00Z', end: '2026-11-30T10:00:00Z', hard: { sessions: 9 } }] };
    expect(limitsInForce(spec, at('10:30:00'))).toMatchObject({ field: 'spec.hard', limits: { sessions: 1 }, nextChange: undefined });
  });
});

describe('envelopeOf', () => {
  it('is the largest of spec.hard and every window not yet over', () => {
    const early = envelopeOf(beamtime, at('08:00:00'));
    expect(early).toEqual({ sessions: 12, gpus: 4, cpuMillis: 32_000, gpusPerFlavour: { a100: 2 }, maxSessionDurationMs: 12 * 3_600_000 });
    expect(envelopeOf(beamtime, at('17:59:59'))).toEqual(early);
  });

  it('forgets a window once it is over (its end is exclusive)', () => {
    expect(envelopeOf(beamtime, at('18:00:00'))).toEqual({ sessions: 4, gpus: 1, cpuMillis: 8000, gpusPerFlavour: { a100: 1 }, maxSessionDurationMs: 8 * 3_600_000 });
  });

  it('is unlimited where any of them is unlimited', () => {
    const spec: ResourceQuotaSpec = {
      hard: { sessions: 2, gpus: 1, gpusPerFlavour: { a100: 1, h100: 1 } },
      windows: [{ name: 'beamtime', start: '2026-11-30T10:00:00Z', end: '2026-11-30T18:00:00Z', hard: { sessions: 8, cpu: '4', gpusPerFlavour: { a100: 2 } } }],
    };
    // gpus and h100 are unlimited in the beamtime, cpu outside it.
    expect(envelopeOf(spec, at('09:00:00'))).toEqual({ sessions: 8, gpusPerFlavour: { a100: 2 } });
  });

  it('is unlimited everywhere while a window without hard is to come', () => {
    const spec: ResourceQuotaSpec = { hard: { sessions: 1, gpus: 0 }, windows: [{ name: 'open', start: '2026-11-30T10:00:00Z', end: '2026-11-30T11:00:00Z' }] };
    expect(envelopeOf(spec, at('09:00:00'))).toEqual({});
    expect(envelopeOf(spec, at('11:00:00'))).toEqual({ sessions: 1, gpus: 0 });
  });

  it('keeps 0 when every limit in reach forbids', () => {
    expect(envelopeOf({ hard: { gpus: 0, sessions: 0 } }, at('09:00:00'))).toEqual({ gpus: 0, sessions: 0 });
  });
});

describe('chargeOf', () => {
  const run = { gpus: 2, cpuMillis: 1500, admittedAt: '2026-11-30T12:00:00Z' };

  it.each([
    ['an hour and a half', '13:30:00', 5400],
    ['one second', '12:00:01', 1],
    ['nothing at the admission instant', '12:00:00', 0],
    ['nothing for an end before the admission', '11:00:00', 0],
  ] as const)('charges %s in whole seconds', (_, end, seconds) => {
    const charge = chargeOf(run, at(end));
    expect(charge).toEqual({ seconds, gpuSeconds: seconds * 2, cpuMilliSeconds: seconds * 1500 });
    for (const value of Object.values(charge)) expect(Number.isInteger(value)).toBe(true);
  });

  it('charges a CPU-only run no GPU time', () => {
    expect(chargeOf({ gpus: 0, cpuMillis: 250, admittedAt: '2026-11-30T12:00:00Z' }, at('12:10:00'))).toEqual({ seconds: 600, gpuSeconds: 0, cpuMilliSeconds: 150_000 });
  });

  it('charges nothing for an admission instant that does not parse', () => {
    expect(chargeOf({ ...run, admittedAt: 'yesterday' }, at('13:00:00'))).toEqual({ seconds: 0, gpuSeconds: 0, cpuMilliSeconds: 0 });
  });

  it('gives the same charge as the instants a usage record would carry', () => {
    const end = at('13:30:00');
    expect(chargeOf(run, Date.parse(formatTime(end))).gpuSeconds).toBe(10_800);
  });
});

describe('formatTime', () => {
  it('writes an instant to the second, truncating milliseconds', () => {
    expect(formatTime(at('12:00:00'))).toBe('2026-11-30T12:00:00Z');
    expect(formatTime(at('12:00:00.999'))).toBe('2026-11-30T12:00:00Z');
  });
});
