// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { timeChart } from './chart.ts';
import { withoutRaw, workloadPicture, workloadResult } from './result-model.ts';

const head = { id: 'w1-4', title: 'W1: burst of 4', what: 'four sessions', system: 'panalysis' as const, sessions: 4 };
const samples = [{ t: 0, created: 0, ready: 0, rssMb: 180, heapMb: 60 }, { t: 0.5, created: 4, ready: 1, rssMb: 190, heapMb: 70 }, { t: 1, created: 4, ready: 4, rssMb: 185 }];
const operator = { writes: 18, writesByVerb: { apply: 18 }, cpuSeconds: 0.4, peakRssMb: 190, peakRssSince: 'workload start', settledRssMb: 185, peakHeapMb: 70, settledHeapMb: 70 };

describe('workload results', () => {
  it('summarises latencies with p95, throughput and per-session operator figures, keeping the raw data apart', () => {
    const w = workloadResult({ ...head, seconds: 2 }, { podReady: [100, 200, 300, 400], sessionReady: [] }, { operator, platform: {}, samples });
    expect(w.latencyMs).toEqual({ podReady: { n: 4, p50: 200, p90: 400, p95: 400, p99: 400, max: 400, mean: 250 } });
    expect(w).toMatchObject({ seconds: 2, sessionsPerSecond: 2, operator: { writesPerSession: 4.5, cpuSecondsPerSession: 0.1 } });
    expect(w.raw?.samples).toHaveLength(3);
    expect(withoutRaw(w)).not.toHaveProperty('raw');
  });
  it('draws latency CDFs, sessions Ready over time and operator memory over time', () => {
    const svg = workloadPicture(workloadResult(head, { podCreated: [50, 60, 70, 80], sessionReady: [100, 200, 300, 400] }, { operator, platform: {}, samples }))!;
    expect(svg.match(/<svg /g)).toHaveLength(4);
    for (const text of ['W1: burst of 4: latency', 'create → session Ready', 'W1: burst of 4: throughput', 'operator RSS (MB)', 'operator V8 heap used (MB)']) expect(svg).toContain(text);
  });
  it('has no picture without raw data', () => {
    expect(workloadPicture(withoutRaw(workloadResult(head, {})))).toBeUndefined();
  });
  it('plots time series within the chart area', () => {
    const svg = timeChart('t', [{ label: 'a', points: [[0, 0], [10, 5]], color: '#000' }], 'MB');
    expect(svg).toContain('points="70.0,360.0 700.0,');
  });
});
