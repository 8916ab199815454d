// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { renderReport } from './report.ts';
import { ratios, targets } from './report-model.ts';
import type { Bundle } from './report-model.ts';
import type { WorkloadResult } from './result-model.ts';

const s = (p50: number, p99: number) => ({ n: 100, p50, p90: p99, p95: p99, p99, max: p99, mean: p50 });
const w = (id: string, system: WorkloadResult['system'], sessions: number, e2e: number[], perSecond: number, more: Partial<WorkloadResult> = {}): WorkloadResult => ({
  id, system, sessions, title: id, what: `${id} does this.`, sessionsPerSecond: perSecond, seconds: sessions / perSecond,
  latencyMs: system === 'loader' ? { podReady: s(e2e[0]!, e2e[1]!) } : { podCreated: s(500, 900), sessionReady: s(e2e[0]!, e2e[1]!) },
  ...more,
});
const operator = (writes: number, sessions: number) => ({ writes, writesByVerb: { apply: writes }, writesPerSession: writes / sessions, cpuSeconds: 3, cpuSecondsPerSession: 0.03, peakRssMb: 200, peakRssSince: 'workload start', settledRssMb: 190, peakHeapMb: 80, settledHeapMb: 60 });

/** A run with bursts of 100 and 1,000 and the hub at both sizes (failing at 1,000). */
export function fixture(): Bundle {
  return {
    date: '2026-11-30T12:00:00.000Z', quick: false,
    machine: { cpus: 2, model: 'Test CPU', memoryGb: 7.8 },
    versions: { Kubernetes: 'v1.35.4', etcd: 'v3.6.16', kwok: 'v0.8.0', Node: 'v22.23.3', JupyterHub: '6.1.1', KubeSpawner: '7.1.0', 'configurable-http-proxy': '5.0.1' },
    options: { n: 100, sizes: [100, 1000] },
    nodes: { cpuNodes: 94, gpuNodes: 4, migNodes: 2 },
    kubespawner: { failedAtSize: 1000 },
    workloads: [
      w('b1', 'loader', 100, [4000, 6000], 20),
      w('w1-100', 'panalysis', 100, [6000, 9000], 10, { operator: operator(400, 100) }),
      w('kubespawner-100', 'kubespawner', 100, [8000, 12000], 8),
      w('kubespawner-100-nostorage', 'kubespawner', 100, [3000, 5000], 15),
      w('w1-1000', 'panalysis', 1000, [7000, 6800], 17, { operator: operator(4000, 1000), api: { requests: 9000, writes: 7000, requestsPerSession: 9, writesPerSession: 7, loaderWrites: 1000, writesPerSessionBesidesLoader: 6, writesByVerb: { POST: 5000, PATCH: 2000 }, topWrites: { 'POST pods': 1000 } } }),
      w('kubespawner-1000', 'kubespawner', 1000, [], 0, { latencyMs: {}, failed: { reason: 'hub answered 429', ready: 64 } }),
      { id: 'w4-idle', system: 'panalysis', sessions: 1000, title: 'W4', what: 'idle', latencyMs: {}, operator: operator(0, 1000), extra: { idleSeconds: 15 } },
      { id: 'w3-restart', system: 'panalysis', sessions: 1000, title: 'W3', what: 'restart', latencyMs: {}, extra: { stored: 1000, writesAfter: 2, afterSeconds: 60, reconciledAllMs: 9000, peakRssMb: 350 } },
    ],
  };
}

describe('sessionbench report', () => {
  it('divides ours by B1 and by the hub per burst size, leaving out a hub run that failed', () => {
    expect(ratios(fixture())).toEqual([
      { size: 100, against: 'B1 (loader, PVC + pod)', p50: 1.5, p99: 1.5, throughput: 0.5 },
      { size: 100, against: 'KubeSpawner (home PVC)', p50: 0.75, p99: 0.75, throughput: 1.25 },
      { size: 100, against: 'KubeSpawner (no storage)', p50: 2, p99: 1.8, throughput: 0.67 },
      { size: 1000, against: 'B1 (loader, PVC + pod)', p50: 1.75, p99: 1.13, throughput: 0.85 },
    ]);
  });
  it('checks the targets, and says "not measured" below the scale a target names', () => {
    const t = Object.fromEntries(targets(fixture()).map((x) => [x.target, x]));
    expect(t['at 1,000 sessions: operator overhead over B1 ≤ 1 s at p99']).toMatchObject({ verdict: 'met', measured: expect.stringMatching(/^0\.8 s/) });
    expect(t['at 1,000 sessions: throughput ≥ 80% of B1']).toMatchObject({ verdict: 'met', measured: expect.stringMatching(/^85%/) });
    expect(t['faster than JupyterHub + KubeSpawner at every size']).toMatchObject({ verdict: 'met', measured: expect.stringContaining('failed at N=1000') });
    expect(t['≤ 5 API writes per session start']).toMatchObject({ verdict: 'met' });
    expect(t['0 writes on an idle resync']).toMatchObject({ verdict: 'met' });
    expect(t['0 writes after a restart']).toMatchObject({ verdict: 'missed', measured: expect.stringMatching(/^2 operator writes/) });
    expect(t['≤ 400 MB operator RSS with 10,000 sessions stored']).toMatchObject({ verdict: 'not measured', measured: expect.stringContaining('1000 stored, not 10,000') });
  });
  it('measures the overhead at 1,000 from the burst\'s first create when both sides have that latency (the loader\'s own queue counts as the operator\'s does)', () => {
    const b = fixture();
    const b1 = b.workloads.find((x) => x.id === 'b1')!;
    b1.latencyMs.burstReady = s(30_000, 60_000);
    b.workloads.find((x) => x.id === 'w1-1000')!.latencyMs.burstReady = s(40_000, 61_500);
    const t = targets(b).find((x) => x.target.startsWith('at 1,000 sessions: operator overhead'))!;
    expect(t).toMatchObject({ verdict: 'missed', measured: expect.stringMatching(/^1\.5 s \(session Ready p99 61500 ms − B1 pod Ready p99 60000 ms at N=100, from the burst's first create\)/) });
  });
  it('says the hub comparison was not measured when it was skipped', () => {
    const b = { ...fixture(), kubespawner: { skipped: 'BENCH_KUBESPAWNER=0' }, workloads: fixture().workloads.filter((x) => x.system !== 'kubespawner') };
    expect(targets(b).find((x) => x.target.startsWith('faster'))).toMatchObject({ verdict: 'not measured', measured: 'skipped: BENCH_KUBESPAWNER=0' });
    expect(renderReport(b, '../bench/results')).toContain('JupyterHub + KubeSpawner: skipped (BENCH_KUBESPAWNER=0).');
  });
  it('renders machine, versions, targets, ratios, one section per workload and links to the pictures', () => {
    const md = renderReport(fixture(), '../bench/results', (id) => id !== 'w4-idle');
    expect(md).toContain('| machine | 2 cores, Test CPU, 7.8 GB memory |');
    expect(md).toContain('| KubeSpawner | 7.1.0 |');
    expect(md).toContain('| 0 writes after a restart | 2 operator writes in the 60 s after every stored session was reconciled | **missed** |');
    expect(md).toContain('| 100 | KubeSpawner (home PVC) | 0.75 | 0.75 | 1.25 |');
    expect(md).toContain('### w1-1000: w1-1000');
    expect(md).toContain('| create → session Ready | 7.0 | 6.8 | 6.8 | 6.8 |');
    expect(md).toContain('| create → server ready (hub) | 8.0 |');
    expect(md).toContain('**Failed** with 64 of 1000 ready: hub answered 429');
    expect(md).toContain('| apiserver writes per session (all clients / without the loader’s) | 7.0 / 6.0 |');
    expect(md).toContain('![w1-100](../bench/results/w1-100.svg)');
    expect(md).not.toContain('![w4-idle]');
    expect(md).not.toMatch(/\n\n\n/);
  });
});
