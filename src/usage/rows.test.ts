// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { usageRecord } from './fixtures.ts';
import { round, usageRows } from './rows.ts';

const november = { since: Date.parse('2026-11-01T00:00:00Z'), until: Date.parse('2026-12-01T00:00:00Z') };

describe('usageRows', () => {
  it('turns a record into the row an accountant reads', () => {
    const record = usageRecord('2026-11-03T10:00:00Z', '2026-11-03T12:30:00Z', { gpus: 2, cpuMillis: 1500, memoryBytes: 512 * 1024 ** 2, run: 3 });
    const { rows } = usageRows([record], { interval: {} });
    expect(rows.map((r) => r.row)).toEqual([
      {
        proposal: '20231234', user: 'alice', session: 'alice-lab', run: 3, profile: 'gpu-small', type: 'jupyterlab',
        gpus: 2, gpuFlavour: 'a100', cpuCores: 1.5, memoryGiB: 0.5,
        start: '2026-11-03T10:00:00Z', end: '2026-11-03T12:30:00Z',
        hours: 2.5, gpuHours: 5, cpuHours: 3.75,
        endReason: 'Stopped', imageDigest: 'sha256:0123abcd', namespace: 'proposal-20231234',
      },
    ]);
  });

  it('counts only the hours inside the interval and keeps the run\'s own start and end', () => {
    const crossing = usageRecord('2026-10-31T20:00:00Z', '2026-11-01T02:00:00Z', { gpus: 4 });
    const [row] = usageRows([crossing], { interval: november }).rows;
    expect(row!.row).toMatchObject({ start: '2026-10-31T20:00:00Z', end: '2026-11-01T02:00:00Z', hours: 2, gpuHours: 8, cpuHours: 8 });
    const [october] = usageRows([crossing], { interval: { until: november.since } }).rows;
    expect(october!.row).toMatchObject({ hours: 4, gpuHours: 16 });
  });

  it('leaves out runs outside the interval and of other proposals', () => {
    const records = [
      usageRecord('2026-10-01T10:00:00Z', '2026-10-01T11:00:00Z', { session: 'october' }),
      usageRecord('2026-11-05T10:00:00Z', '2026-11-05T11:00:00Z', { session: 'kept' }),
      usageRecord('2026-11-05T10:00:00Z', '2026-11-05T11:00:00Z', { session: 'other', proposal: '20239999' }),
      usageRecord('2026-12-01T00:00:00Z', '2026-12-01T01:00:00Z', { session: 'december' }),
    ];
    const { rows } = usageRows(records, { proposal: '20231234', interval: november });
    expect(rows.map((r) => r.row.session)).toEqual(['kept']);
    expect(usageRows(records, { interval: november }).rows.map((r) => r.row.session)).toEqual(['kept', 'other']);
  });

  it('orders rows by proposal, then start, then session and run', () => {
    const records = [
      usageRecord('2026-11-05T10:00:00.500Z', '2026-11-05T11:00:00Z', { session: 'b', run: 1 }),
      usageRecord('2026-11-05T10:00:00Z', '2026-11-05T11:00:00Z', { session: 'b', run: 2 }),
      usageRecord('2026-11-05T10:00:00Z', '2026-11-05T11:00:00Z', { session: 'a', run: 9 }),
      usageRecord('2026-11-01T10:00:00Z', '2026-11-05T11:00:00Z', { session: 'z', proposal: '20239999' }),
      usageRecord('2026-11-02T10:00:00Z', '2026-11-02T11:00:00Z', { session: 'c' }),
    ];
    const order = usageRows(records, { interval: {} }).rows.map((r) => `${r.row.proposal}/${r.row.session}/${r.row.run}`);
    expect(order).toEqual(['20231234/c/1', '20231234/a/9', '20231234/b/2', '20231234/b/1', '20239999/z/1']);
  });

  it('fills absent optional fields with empty text and reports unreadable timestamps', () => {
    const bare = usageRecord('2026-11-05T10:00:00Z', '2026-11-05T10:00:00Z', { gpus: 0, endReason: 'Refused' });
    delete bare.spec.profile;
    delete bare.spec.imageDigest;
    const broken = usageRecord('2026-11-05T10:00:00Z', 'soon');
    broken.metadata.name = 'broken';
    const { rows, unreadable } = usageRows([bare, broken], { interval: november });
    expect(rows.map((r) => r.row)).toMatchObject([{ profile: '', imageDigest: '', hours: 0, gpuHours: 0, endReason: 'Refused' }]);
    expect(unreadable).toEqual(['proposal-20231234/broken']);
  });
});

describe('round', () => {
  it.each([
    [1 / 3, 0.3333],
    [2 / 3, 0.6667],
    [0.00004, 0],
    [-0.00004, 0],
    [12.5, 12.5],
  ])('rounds %d to %d', (x, r) => {
    expect(Object.is(round(x), r)).toBe(true);
  });
});
