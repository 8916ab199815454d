// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { cutToInterval, parseInstant } from './interval.ts';

const at = (iso: string): number => Date.parse(iso);

describe('parseInstant', () => {
  it.each([
    ['2026-11-01', '2026-11-01T00:00:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['2026-11-01T08:30:00Z', '2026-11-01T08:30:00.000Z'],
    ['2026-11-01T08:30:00+01:00', '2026-11-01T07:30:00.000Z'],
    ['2026-11-01T08:30:00.250-02:00', '2026-11-01T10:30:00.250Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(new Date(parseInstant(text)!).toISOString()).toBe(iso);
  });

  it.each(['', 'yesterday', '2026-13-01', '2026-02-30', '2025-02-29', '2026-11-1', '2026-11-01T08:30:00', '2026-11-01T25:00:00Z', '2026-02-30T00:00:00Z', '1730419200'])(
    'refuses %j',
    (text) => {
      expect(parseInstant(text)).toBeUndefined();
    },
  );
});

describe('cutToInterval', () => {
  const november = { since: at('2026-11-01T00:00:00Z'), until: at('2026-12-01T00:00:00Z') };
  const cut = (start: string, end: string, interval: { since?: number; until?: number } = november) => {
    const c = cutToInterval(at(start), at(end), interval);
    return c && [new Date(c.from).toISOString(), new Date(c.to).toISOString()];
  };

  it('keeps a run inside the interval whole', () => {
    expect(cut('2026-11-03T10:00:00Z', '2026-11-03T12:00:00Z')).toEqual(['2026-11-03T10:00:00.000Z', '2026-11-03T12:00:00.000Z']);
  });

  it('cuts a run that crosses either end to the interval', () => {
    expect(cut('2026-10-31T22:00:00Z', '2026-11-01T03:00:00Z')).toEqual(['2026-11-01T00:00:00.000Z', '2026-11-01T03:00:00.000Z']);
    expect(cut('2026-11-30T23:00:00Z', '2026-12-01T05:00:00Z')).toEqual(['2026-11-30T23:00:00.000Z', '2026-12-01T00:00:00.000Z']);
    expect(cut('2026-10-01T00:00:00Z', '2027-01-01T00:00:00Z')).toEqual(['2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z']);
  });

  it('leaves out runs that only touch the interval from outside (half-open)', () => {
    expect(cut('2026-10-31T20:00:00Z', '2026-11-01T00:00:00Z')).toBeUndefined();
    expect(cut('2026-12-01T00:00:00Z', '2026-12-01T02:00:00Z')).toBeUndefined();
    expect(cut('2026-10-01T00:00:00Z', '2026-10-02T00:00:00Z')).toBeUndefined();
  });

  it('keeps a run of no length that lies in [since, until)', () => {
    expect(cut('2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')).toEqual(['2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z']);
    expect(cut('2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z')).toBeUndefined();
  });

  it('treats an end before the start as a run of no length', () => {
    expect(cut('2026-11-02T00:00:00Z', '2026-11-01T00:00:00Z')).toEqual(['2026-11-02T00:00:00.000Z', '2026-11-02T00:00:00.000Z']);
  });

  it('cuts only at the ends that are given', () => {
    expect(cut('2026-10-31T22:00:00Z', '2026-11-01T03:00:00Z', { since: november.since })).toEqual(['2026-11-01T00:00:00.000Z', '2026-11-01T03:00:00.000Z']);
    expect(cut('2026-10-31T22:00:00Z', '2026-11-01T03:00:00Z', {})).toEqual(['2026-10-31T22:00:00.000Z', '2026-11-01T03:00:00.000Z']);
  });

  it('splits a run between adjacent intervals without losing or doubling time', () => {
    const start = at('2026-10-30T17:00:00Z');
    const end = at('2026-11-02T09:30:00Z');
    const boundaries = [undefined, november.since, at('2026-11-02T00:00:00Z'), undefined];
    let total = 0;
    for (let i = 0; i + 1 < boundaries.length; i++) {
      const c = cutToInterval(start, end, { since: boundaries[i], until: boundaries[i + 1] });
      total += c ? c.to - c.from : 0;
    }
    expect(total).toBe(end - start);
  });
});
