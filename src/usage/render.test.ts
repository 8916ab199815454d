// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { parseCsv, usageRecord } from './fixtures.ts';
import { csvField, renderCsv, renderJson, usageTotals } from './render.ts';
import { usageRows } from './rows.ts';
import type { UsageReport } from './render.ts';

const november = { since: Date.parse('2026-11-01T00:00:00Z'), until: Date.parse('2026-12-01T00:00:00Z') };

describe('renderCsv', () => {
  it('writes the header and one CRLF line per run', () => {
    const { rows } = usageRows([usageRecord('2026-11-03T10:00:00Z', '2026-11-03T11:30:00Z', { gpus: 2 })], { interval: {} });
    expect(renderCsv(rows)).toBe(
      'proposal,user,session,run,profile,type,gpus,gpuFlavour,cpuCores,memoryGiB,start,end,hours,gpuHours,cpuHours,endReason,imageDigest,namespace\r\n' +
        '20231234,alice,alice-lab,1,gpu-small,jupyterlab,2,a100,4,16,2026-11-03T10:00:00Z,2026-11-03T11:30:00Z,1.5,3,6,Stopped,sha256:0123abcd,proposal-20231234\r\n',
    );
  });

  it('writes only the header when nothing matched', () => {
    expect(parseCsv(renderCsv([]))).toHaveLength(1);
  });

  it('quotes fields with commas, quotes and line breaks so they read back unchanged', () => {
    const awkward = { type: 'desktop, "large"', gpuFlavour: 'h100\nnvlink', proposal: 'p,1' };
    const { rows } = usageRows([usageRecord('2026-11-03T10:00:00Z', '2026-11-03T11:00:00Z', awkward)], { interval: {} });
    const [header, line] = parseCsv(renderCsv(rows));
    expect(line).toHaveLength(header!.length);
    expect(line![header!.indexOf('type')]).toBe('desktop, "large"');
    expect(line![header!.indexOf('gpuFlavour')]).toBe('h100\nnvlink');
    expect(line![header!.indexOf('proposal')]).toBe('p,1');
  });

  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\r\nlines', '"two\r\nlines"'],
    [1.25, '1.25'],
  ])('csvField(%j) is %j', (value, text) => {
    expect(csvField(value)).toBe(text);
  });
});

describe('JSON and totals', () => {
  const records = [
    usageRecord('2026-11-03T10:00:00Z', '2026-11-03T12:00:00Z', { user: 'bob', session: 'bob-lab', gpus: 1 }),
    usageRecord('2026-10-31T23:00:00Z', '2026-11-01T01:00:00Z', { gpus: 2, cpuMillis: 500 }),
    usageRecord('2026-11-10T08:00:00Z', '2026-11-10T08:20:00Z', { gpus: 1, run: 2 }),
    usageRecord('2026-11-04T00:00:00Z', '2026-11-04T03:00:00Z', { proposal: '20239999', user: 'carol', session: 'c', gpus: 0 }, 'proposal-20239999'),
  ];

  it('sums the cut hours per proposal and per user of each proposal', () => {
    const { rows } = usageRows(records, { interval: november });
    expect(usageTotals(rows)).toEqual([
      {
        proposal: '20231234', runs: 3, hours: 3.3333, gpuHours: 4.3333, cpuHours: 9.8333,
        users: [
          { user: 'alice', runs: 2, hours: 1.3333, gpuHours: 2.3333, cpuHours: 1.8333 },
          { user: 'bob', runs: 1, hours: 2, gpuHours: 2, cpuHours: 8 },
        ],
      },
      { proposal: '20239999', runs: 1, hours: 3, gpuHours: 0, cpuHours: 12, users: [{ user: 'carol', runs: 1, hours: 3, gpuHours: 0, cpuHours: 12 }] },
    ]);
  });

  it('gives the interval, the rows with the CSV\'s fields, and the totals', () => {
    const { rows } = usageRows(records, { interval: november });
    const report = JSON.parse(renderJson(rows, november)) as UsageReport;
    expect(report.since).toBe('2026-11-01T00:00:00Z');
    expect(report.until).toBe('2026-12-01T00:00:00Z');
    const [header] = parseCsv(renderCsv(rows));
    for (const run of report.runs) expect(Object.keys(run)).toEqual(header);
    expect(report.runs.map((r) => [r.user, r.hours, r.gpuHours])).toEqual([
      ['alice', 1, 2],
      ['bob', 2, 2],
      ['alice', 0.3333, 0.3333],
      ['carol', 3, 0],
    ]);
    expect(report.totals.map((t) => t.proposal)).toEqual(['20231234', '20239999']);
  });

  it('writes null for an open end and an empty list when nothing matched', () => {
    expect(JSON.parse(renderJson([], {}))).toEqual({ since: null, until: null, runs: [], totals: [] });
  });
});
