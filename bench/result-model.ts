// SPDX-License-Identifier: Apache-2.0
/**
 * The result of one workload as written to bench/results/<id>.json (pure): latency
 * percentiles, throughput, API traffic, the operator's and the platform's cost, and the raw
 * latencies and time samples the picture is drawn from; and that picture.
 */
import type { ApiFigures } from './api-figures.ts';
import { cdfChart, stack, timeChart } from './chart.ts';
import type { Series, TimeSeries } from './chart.ts';
import type { Observed, OperatorCost, TimeSample } from './observe.ts';
import { summariseP95 } from './quota-workload.ts';

export type Summary95 = ReturnType<typeof summariseP95>;

/** Latencies measured per session: ms from the create call, `burstReady` from the first create of the workload (session Ready; B0/B1: pod Ready). */
export const LATENCIES = {
  podCreated: 'create → pod created',
  podScheduled: 'create → pod scheduled',
  podReady: 'create → pod Ready',
  sessionReady: 'create → session Ready',
  overhead: 'pod Ready → session Ready',
  burstReady: 'burst start → Ready',
} as const;
export type LatencyName = keyof typeof LATENCIES;

export interface WorkloadResult {
  /** File name in bench/results, e.g. w1-1000. */
  id: string;
  title: string;
  /** What the workload does, one paragraph. */
  what: string;
  /** Who turns requests into pods: the operator, the loader itself (baselines) or JupyterHub + KubeSpawner. */
  system: 'panalysis' | 'loader' | 'kubespawner';
  sessions: number;
  latencyMs: Partial<Record<LatencyName, Summary95>>;
  /** First create sent → last Ready. */
  seconds?: number;
  sessionsPerSecond?: number;
  api?: ApiFigures;
  operator?: OperatorCost & { writesPerSession: number; cpuSecondsPerSession: number };
  platform?: { apiserverCpuSeconds?: number; etcdCpuSeconds?: number };
  /** Figures only this workload has. */
  extra?: Record<string, unknown>;
  failed?: { reason: string; ready: number };
  skipped?: string;
  /** Per-session latencies and time samples; in the per-workload file only. */
  raw?: { latencies: Partial<Record<LatencyName, number[]>>; samples: TimeSample[] };
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** A workload result from its raw latencies and what {@link observe} measured around it. */
export function workloadResult(head: Pick<WorkloadResult, 'id' | 'title' | 'what' | 'system' | 'sessions'> & { seconds?: number; extra?: Record<string, unknown> }, latencies: Partial<Record<LatencyName, number[]>>, obs?: Omit<Observed<unknown>, 'out'>): WorkloadResult {
  const latencyMs: WorkloadResult['latencyMs'] = {};
  for (const [k, v] of Object.entries(latencies) as Array<[LatencyName, number[]]>) if (v.length) latencyMs[k] = summariseP95(v);
  const n = Math.max(1, head.sessions);
  return {
    ...head,
    latencyMs,
    ...(head.seconds !== undefined ? { seconds: round1(head.seconds), sessionsPerSecond: round1(head.sessions / head.seconds) } : {}),
    ...(obs?.api ? { api: obs.api } : {}),
    ...(obs?.operator ? { operator: { ...obs.operator, writesPerSession: round1(obs.operator.writes / n), cpuSecondsPerSession: Math.round((obs.operator.cpuSeconds / n) * 1000) / 1000 } } : {}),
    ...(obs ? { platform: obs.platform } : {}),
    raw: { latencies, samples: obs?.samples ?? [] },
  };
}

/** The result without its raw data, for the combined file. */
export function withoutRaw(w: WorkloadResult): WorkloadResult {
  const { raw: _raw, ...rest } = w;
  return rest;
}

const COLORS: Record<LatencyName, string> = { podCreated: '#999999', podScheduled: '#8c564b', podReady: '#1f77b4', sessionReady: '#d62728', overhead: '#ff7f0e', burstReady: '#2ca02c' };

/** The picture of a workload: latency CDFs, sessions Ready over time, operator RSS and heap over time (the parts it has data for). */
export function workloadPicture(w: WorkloadResult): string | undefined {
  const raw = w.raw;
  if (!raw) return undefined;
  const parts: string[] = [];
  const series: Series[] = (['podCreated', 'podReady', 'sessionReady'] as const).filter((k) => raw.latencies[k]?.length).map((k) => ({ label: w.system === 'kubespawner' && k === 'sessionReady' ? 'create → server ready (hub)' : LATENCIES[k], values: raw.latencies[k]!, color: COLORS[k] }));
  if (series.length) parts.push(cdfChart(`${w.title}: latency`, series, { y: 'share of sessions' }));
  const s = raw.samples;
  if (s.length > 1) {
    const ready: TimeSeries[] = [
      { label: 'created', points: s.map((x) => [x.t, x.created]), color: '#999999' },
      { label: 'Ready', points: s.map((x) => [x.t, x.ready]), color: '#d62728' },
    ];
    parts.push(timeChart(`${w.title}: throughput`, ready, 'sessions'));
    const memory: TimeSeries[] = [];
    if (s.some((x) => x.rssMb !== undefined)) memory.push({ label: 'operator RSS (MB)', points: s.filter((x) => x.rssMb !== undefined).map((x) => [x.t, x.rssMb!]), color: '#1f77b4' });
    if (s.some((x) => x.heapMb !== undefined)) memory.push({ label: 'operator V8 heap used (MB)', points: s.filter((x) => x.heapMb !== undefined).map((x) => [x.t, x.heapMb!]), color: '#2ca02c' });
    if (memory.length) parts.push(timeChart(`${w.title}: operator memory`, memory, 'MB'));
  }
  return parts.length ? stack(parts) : undefined;
}
