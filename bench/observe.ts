// SPDX-License-Identifier: Apache-2.0
/**
 * Measures a workload from outside: the operator's writes, CPU seconds, RSS and V8 heap (peak,
 * and settled a few seconds after the workload), the apiserver's requests (all clients), the
 * apiserver's and etcd's CPU seconds, and a sample every 500 ms of the operator's RSS and heap
 * and the workload's created and Ready counts (for the pictures).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { apiFigures, requestsByKind } from './api-figures.ts';
import type { ApiFigures } from './api-figures.ts';
import { apiServerMetrics, delta } from './metrics-text.ts';
import { cpuSeconds, heapUsedMb, peakRssMb, resetPeakRss, rssMb, writesByVerb } from './operator-process.ts';
import type { OperatorProcess } from './operator-process.ts';

/** One sample: seconds since the workload started. */
export interface TimeSample { t: number; rssMb?: number; heapMb?: number; created: number; ready: number }

export interface OperatorCost {
  writes: number;
  writesByVerb: Record<string, number>;
  cpuSeconds: number;
  peakRssMb: number;
  /** Since the workload started where the kernel lets us reset the peak, else since the operator started. */
  peakRssSince: string;
  settledRssMb: number;
  peakHeapMb?: number;
  settledHeapMb?: number;
}

export interface Observed<T> {
  out: T;
  api?: ApiFigures;
  operator?: OperatorCost;
  platform: { apiserverCpuSeconds?: number; etcdCpuSeconds?: number };
  samples: TimeSample[];
}

export interface ObserveContext {
  kc: KubeConfig;
  /** The operator under benchmark, if one runs. */
  op?: OperatorProcess;
  /** Pids of the control plane's processes, when the benchmark started them. */
  pids: { apiserver?: number; etcd?: number };
  /** Wait after the workload before reading settled memory. */
  settleMs: number;
}

const cpuOf = (pid: number | undefined) => {
  try {
    return pid ? cpuSeconds(pid) : undefined;
  } catch {
    return undefined;
  }
};
const minus = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : Math.round((a - b) * 100) / 100);

/**
 * Runs `work` and measures it. `counts` gives the workload's created and Ready so far;
 * `sessions` and `loaderWrites` (from the result) turn API counts into per-session figures.
 */
export async function observe<T>(ctx: ObserveContext, counts: () => { created: number; ready: number }, work: () => Promise<T>, perSession: (out: T) => { sessions: number; loaderWrites: number }): Promise<Observed<T>> {
  const { op } = ctx;
  const pid = op?.child.pid;
  const api0 = requestsByKind(await apiServerMetrics(ctx.kc));
  const writes0 = op ? await writesByVerb(op.port) : undefined;
  const cpu0 = cpuOf(pid);
  const plat0 = { a: cpuOf(ctx.pids.apiserver), e: cpuOf(ctx.pids.etcd) };
  const peakRssSince = pid && resetPeakRss(pid) ? 'workload start' : 'operator start';
  const started = performance.now();
  const samples: TimeSample[] = [];
  const sample = () => {
    const s: TimeSample = { t: Math.round(performance.now() - started) / 1000, ...counts() };
    if (op && pid) {
      try {
        s.rssMb = rssMb(pid);
      } catch {
        // the operator is gone (a restart workload): no memory sample
      }
      s.heapMb = heapUsedMb(op);
    }
    samples.push(s);
  };
  sample();
  const timer = setInterval(sample, 500);
  let out: T;
  try {
    out = await work();
    await new Promise((r) => setTimeout(r, ctx.settleMs));
  } finally {
    clearInterval(timer);
  }
  sample();
  const { sessions, loaderWrites } = perSession(out);
  const api = apiFigures(delta(api0, requestsByKind(await apiServerMetrics(ctx.kc))), sessions, loaderWrites);
  const platform = { apiserverCpuSeconds: minus(cpuOf(ctx.pids.apiserver), plat0.a), etcdCpuSeconds: minus(cpuOf(ctx.pids.etcd), plat0.e) };
  if (!op || !pid || !writes0) return { out, api, platform, samples };
  const byVerb = delta(writes0, await writesByVerb(op.port));
  const heaps = samples.map((s) => s.heapMb).filter((h): h is number => h !== undefined);
  const last = samples.at(-1)!;
  const operator: OperatorCost = {
    writes: Object.values(byVerb).reduce((a, b) => a + b, 0),
    writesByVerb: byVerb,
    cpuSeconds: minus(cpuOf(pid), cpu0) ?? 0,
    peakRssMb: peakRssMb(pid),
    peakRssSince,
    settledRssMb: last.rssMb ?? 0,
    ...(heaps.length ? { peakHeapMb: Math.max(...heaps), settledHeapMb: last.heapMb } : {}),
  };
  return { out, api, operator, platform, samples };
}
