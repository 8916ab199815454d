// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { benchOptions, nodeLayoutFor } from './options.ts';

describe('sessionbench options', () => {
  it('runs issue 10’s workloads by default: bursts of 100 and 1,000, 2, 5 and 10 sessions/s, 1,000 stored, 300 s idle', () => {
    expect(benchOptions([], {})).toMatchObject({ quick: false, n: 100, sizes: [100, 1000], rates: [2, 5, 10], arrivalSeconds: 20, resyncSeconds: 5, resyncIdleSeconds: 15, stored: 1000, afterRestartSeconds: 60, idleSeconds: 300, kubespawner: true, resultName: 'sessionbench', resultDir: '' });
  });
  it('makes --quick and BENCH_QUICK=1 a small smoke run with results of its own', () => {
    const quick = { quick: true, n: 10, sizes: [10], rates: [2], arrivalSeconds: 5, stored: 20, afterRestartSeconds: 10, idleSeconds: 6, resultName: 'sessionbench-quick', resultDir: 'quick' };
    expect(benchOptions(['--quick'], {})).toMatchObject(quick);
    expect(benchOptions([], { BENCH_QUICK: '1' })).toMatchObject(quick);
  });
  it('reads burst sizes and rates as lists, stored sessions and idle seconds as numbers', () => {
    const o = benchOptions([], { BENCH_N: '50', BENCH_SIZES: '100, 1000,5000', BENCH_RATES: '2,5', BENCH_ARRIVAL_SECONDS: '10', BENCH_STORED: '10000', BENCH_IDLE_SECONDS: '30' });
    expect(o).toMatchObject({ n: 50, sizes: [100, 1000, 5000], rates: [2, 5], arrivalSeconds: 10, stored: 10000, idleSeconds: 30 });
  });
  it('stores at least the last burst’s sessions', () => {
    expect(benchOptions([], { BENCH_SIZES: '100', BENCH_STORED: '20' }).stored).toBe(100);
  });
  it('skips the KubeSpawner bursts with BENCH_KUBESPAWNER=0 and says why', () => {
    expect(benchOptions([], { BENCH_KUBESPAWNER: '0' })).toMatchObject({ kubespawner: false, kubespawnerSkipped: 'BENCH_KUBESPAWNER=0' });
    expect(benchOptions([], {}).kubespawnerSkipped).toBeUndefined();
  });
  it('refuses sizes, rates and counts that are not positive numbers', () => {
    expect(() => benchOptions([], { BENCH_SIZES: '100,x' })).toThrow(/BENCH_SIZES/);
    expect(() => benchOptions([], { BENCH_RATES: '0' })).toThrow(/BENCH_RATES/);
    expect(() => benchOptions([], { BENCH_STORED: '-1' })).toThrow(/BENCH_STORED/);
    expect(() => benchOptions([], { BENCH_IDLE_SECONDS: 'long' })).toThrow(/BENCH_IDLE_SECONDS/);
  });
  it('gives every pod a run keeps at once a node, and about 100 nodes from 1,000 sessions', () => {
    const small = nodeLayoutFor(benchOptions(['--quick'], { BENCH_KUBESPAWNER: '0' }));
    expect(small).toEqual({ cpuNodes: 3, gpuNodes: 2, migNodes: 1 });
    const hundred = nodeLayoutFor(benchOptions([], { BENCH_SIZES: '100', BENCH_STORED: '200' }));
    expect(hundred.cpuNodes * 110).toBeGreaterThanOrEqual(100 + 100 + 200 + 200);
    const standard = nodeLayoutFor(benchOptions([], {}));
    expect(standard.cpuNodes + standard.gpuNodes + standard.migNodes).toBeGreaterThanOrEqual(100);
    expect(standard.gpuNodes).toBeGreaterThan(0);
    const withHub = nodeLayoutFor(benchOptions([], { BENCH_SIZES: '100,1000,5000' }));
    expect(withHub.cpuNodes * 110).toBeGreaterThanOrEqual(200 + 2 * 5000);
    const stored = nodeLayoutFor(benchOptions([], { BENCH_STORED: '10000' }));
    expect(stored.cpuNodes * 110).toBeGreaterThanOrEqual(200 + 10000 + 200);
  });
  it('resyncs less often when many sessions are kept, and idles W4 over two resyncs', () => {
    expect(benchOptions([], { BENCH_SIZES: '100,1000,5000', BENCH_STORED: '10000' })).toMatchObject({ resyncSeconds: 25, resyncIdleSeconds: 55, stored: 10000 });
    expect(benchOptions(['--quick'], {})).toMatchObject({ resyncSeconds: 5, resyncIdleSeconds: 15 });
  });
  it('keeps a run of its own in its folder, and refuses a folder name that is not one', () => {
    expect(benchOptions([], { BENCH_RESULT_DIR: 'stored-10000' }).resultDir).toBe('stored-10000');
    expect(() => benchOptions([], { BENCH_RESULT_DIR: '../docs' })).toThrow(/BENCH_RESULT_DIR must be a folder name/);
  });
});
