// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cpuMillis, formatDuration, memoryBytes, parseDuration, parseQuantity } from './quantity.ts';

describe('quantities', () => {
  it.each([
    ['500m', 0.5], ['2', 2], [4, 4], ['1.5', 1.5], ['16Gi', 16 * 2 ** 30], ['1G', 1e9], ['64Mi', 64 * 2 ** 20],
  ] as const)('parses %s', (q, want) => expect(parseQuantity(q)).toBe(want));

  it.each(['-1', '1 Gi', 'lots', '', '1.2.3'])('refuses %j', (q) => expect(() => parseQuantity(q)).toThrow(/invalid quantity/));

  it('converts cpu to millicores and memory to bytes', () => {
    expect(cpuMillis('250m')).toBe(250);
    expect(cpuMillis(3)).toBe(3000);
    expect(memoryBytes('1Ki')).toBe(1024);
  });
});

describe('durations', () => {
  it.each([['8h', 8 * 3600e3], ['90m', 90 * 60e3], ['1h30m', 90 * 60e3], ['2d', 2 * 86400e3], ['45s', 45e3]] as const)('parses %s', (d, ms) => expect(parseDuration(d)).toBe(ms));
  it.each(['8', 'h', 'forever', '1h-5m'])('refuses %j with an example of what works', (d) => expect(() => parseDuration(d)).toThrow(/e\.g\. 8h/));
  it('round-trips through formatDuration', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 10_000_000 }), (s) => parseDuration(formatDuration(s * 1000)) === s * 1000));
  });
});
