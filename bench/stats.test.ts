// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { quantile, summarise } from './stats.ts';

describe('benchmark statistics', () => {
  it('takes nearest-rank quantiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(xs, 0.5)).toBe(50);
    expect(quantile(xs, 0.99)).toBe(99);
    expect(quantile(xs, 1)).toBe(100);
  });
  it('summarises unsorted samples', () => {
    expect(summarise([30, 10, 20])).toEqual({ n: 3, p50: 20, p90: 30, p99: 30, max: 30, mean: 20 });
  });
});
