// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { defaultQuotaProblems } from './quota-default.ts';

describe('defaultQuotaProblems', () => {
  it('accepts a sound default', () => {
    expect(defaultQuotaProblems({ hard: { sessions: 4, gpusPerFlavour: { a100: 2 }, maxSessionDuration: '12h' }, budgets: { gpuHours: 200, gracePeriod: '15m' } }, ['a100'])).toEqual([]);
  });

  it('names the field and the fix of what the apiserver would refuse', () => {
    expect(defaultQuotaProblems({
      hard: { maxSessionDuration: '30s', gpusPerFlavour: { h100: 1 } },
      windows: [
        { name: 'a', start: '2026-12-01T00:00:00Z', end: '2026-12-10T00:00:00Z' },
        { name: 'b', start: '2026-12-05T00:00:00Z', end: '2026-12-04T00:00:00Z' },
        { name: 'c', start: '2026-12-09T00:00:00Z', end: '2026-12-20T00:00:00Z' },
      ],
    }, ['a100'])).toEqual([
      'quotas.default.hard.maxSessionDuration: must be at least one minute, e.g. 30m or 8h',
      'quotas.default.hard.gpusPerFlavour: unknown GPU flavour h100; flavours of this facility: a100',
      'quotas.default.windows[1].end: must be after its start',
      'quotas.default.windows: windows a and c overlap',
    ]);
  });
});
