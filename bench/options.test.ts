// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { benchOptions, nodeLayoutFor } from './options.ts';

describe('sessionbench options', () => {
  it('runs today’s workloads by default: N=100, one burst of N, 2 sessions/s for 20 s', () => {
    expect(benchOptions([], {})).toMatchObject({ quick: false, n: 100, sizes: [100], rates: [2], arrivalSeconds: 20, idleSeconds: 15, resultName: 'sessionbench' });
  });
  it('makes --quick and BENCH_QUICK=1 a small smoke run with results of its own', () => {
    const quick = { quick: true, n: 10, sizes: [10], arrivalSeconds: 5, resultName: 'sessionbench-quick' };
    expect(benchOptions(['--quick'], {})).toMatchObject(quick);
    expect(benchOptions([], { BENCH_QUICK: '1' })).toMatchObject(quick);
  });
  it('reads burst sizes and rates as lists, the first size being W1', () => {
    const o = benchOptions([], { BENCH_N: '50', BENCH_SIZES: '100, 1000', BENCH_RATES: '2,5', BENCH_ARRIVAL_SECONDS: '10' });
    expect(o).toMatchObject({ n: 50, sizes: [100, 1000], rates: [2, 5], arrivalSeconds: 10 });
  });
  it('refuses sizes and rates that are not positive numbers', () => {
    expect(() => benchOptions([], { BENCH_SIZES: '100,x' })).toThrow(/BENCH_SIZES/);
    expect(() => benchOptions([], { BENCH_RATES: '0' })).toThrow(/BENCH_RATES/);
  });
  it('gives every pod a run keeps at once a node, and about 100 nodes from bursts of 1,000', () => {
    const small = nodeLayoutFor(benchOptions(['--quick'], {}));
    expect(small).toEqual({ cpuNodes: 3, gpuNodes: 2, migNodes: 1 });
    const standard = nodeLayoutFor(benchOptions([], {}));
    expect(standard.cpuNodes * 110).toBeGreaterThanOrEqual(100 + 100 + 100 + 60);
    const large = nodeLayoutFor(benchOptions([], { BENCH_SIZES: '100,1000' }));
    expect(large.cpuNodes + large.gpuNodes + large.migNodes).toBe(100);
    expect(large.gpuNodes).toBeGreaterThan(0);
    const huge = nodeLayoutFor(benchOptions([], { BENCH_SIZES: '10000' }));
    expect(huge.cpuNodes * 110).toBeGreaterThanOrEqual(200 + 10000 + 60);
  });
});
