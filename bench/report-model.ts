// SPDX-License-Identifier: Apache-2.0
/**
 * What a sessionbench run found, from its combined result (pure): the ratios against the
 * loader baseline B1 and JupyterHub + KubeSpawner, and the targets, met or missed.
 */
import type { WorkloadResult } from './result-model.ts';

/** The combined result of a run (bench/results/sessionbench.json). */
export interface Bundle {
  date: string;
  quick: boolean;
  machine: { cpus: number; model?: string; memoryGb: number; os?: string };
  versions: Record<string, string>;
  options: Record<string, unknown>;
  nodes: { cpuNodes: number; gpuNodes: number; migNodes: number };
  kubespawner: { skipped?: string; failedAtSize?: number };
  workloads: WorkloadResult[];
}

export interface Ratio {
  size: number;
  against: string;
  /** ours ÷ theirs: below 1 is faster for latencies, above 1 is faster for throughput. */
  p50?: number;
  p99?: number;
  throughput?: number;
}

const r2 = (x: number | undefined, y: number | undefined) => (x === undefined || y === undefined || y === 0 ? undefined : Math.round((x / y) * 100) / 100);

/** The workload `id` of `b`, if it ran. */
export function workload(b: Bundle, id: string): WorkloadResult | undefined {
  return b.workloads.find((w) => w.id === id);
}

/** Sizes of the W1 bursts that ran, ascending. */
export function burstSizes(b: Bundle): number[] {
  return b.workloads.filter((w) => /^w1-\d+$/.test(w.id)).map((w) => w.sessions).sort((x, y) => x - y);
}

/** The end-to-end latency of a workload: session Ready (KubeSpawner: server ready), for B0/B1 pod Ready. */
function endToEnd(w: WorkloadResult) {
  return w.latencyMs.sessionReady ?? w.latencyMs.podReady;
}

/** B1 at burst size `size` when the run measured it there, else B1 at N. */
function b1At(b: Bundle, size: number): WorkloadResult | undefined {
  return workload(b, `b1-${size}`) ?? workload(b, 'b1');
}

/** Per W1 burst size: ours ÷ B1 and ours ÷ KubeSpawner (with and without storage) on p50, p99 and throughput. */
export function ratios(b: Bundle): Ratio[] {
  const out: Ratio[] = [];
  for (const size of burstSizes(b)) {
    const ours = workload(b, `w1-${size}`)!;
    const against: Array<[string, WorkloadResult | undefined]> = [
      ['B1 (loader, PVC + pod)', b1At(b, size)],
      ['KubeSpawner (home PVC)', workload(b, `kubespawner-${size}`)],
      ['KubeSpawner (no storage)', workload(b, `kubespawner-${size}-nostorage`)],
    ];
    for (const [name, theirs] of against) {
      if (!theirs || theirs.failed || theirs.skipped) continue;
      out.push({ size, against: name, p50: r2(endToEnd(ours)?.p50, endToEnd(theirs)?.p50), p99: r2(endToEnd(ours)?.p99, endToEnd(theirs)?.p99), throughput: r2(ours.sessionsPerSecond, theirs.sessionsPerSecond) });
    }
  }
  return out;
}

export interface TargetCheck {
  target: string;
  measured: string;
  verdict: 'met' | 'missed' | 'not measured';
}

const verdict = (ok: boolean | undefined): TargetCheck['verdict'] => (ok === undefined ? 'not measured' : ok ? 'met' : 'missed');

/** The targets against the run's figures. A target at a scale the run did not reach is "not measured" (the nearest figure is shown). */
export function targets(b: Bundle): TargetCheck[] {
  const out: TargetCheck[] = [];
  const sizes = burstSizes(b);
  const at1000 = sizes.find((s) => s >= 1000);
  const b1 = b1At(b, at1000 ?? sizes.at(-1) ?? 0);
  const big = workload(b, `w1-${at1000 ?? sizes.at(-1)}`);
  const scale = at1000 ? '' : ` (largest burst ${big?.sessions ?? 0}, not 1,000)`;
  if (big && b1) {
    // Both from the burst's first create: the operator's queue and the loader's own are waits of the same burst.
    const ours = big.latencyMs.burstReady ?? big.latencyMs.sessionReady;
    const theirs = b1.latencyMs.burstReady ?? b1.latencyMs.podReady;
    const from = big.latencyMs.burstReady && b1.latencyMs.burstReady ? 'from the burst\'s first create' : 'from each create call';
    const over = (ours?.p99 ?? NaN) - (theirs?.p99 ?? NaN);
    out.push({ target: 'at 1,000 sessions: operator overhead over B1 ≤ 1 s at p99', measured: `${(over / 1000).toFixed(1)} s (session Ready p99 ${ours?.p99} ms − B1 pod Ready p99 ${theirs?.p99} ms at N=${b1.sessions}, ${from})${scale}`, verdict: at1000 ? verdict(over <= 1000) : 'not measured' });
    const share = (big.sessionsPerSecond ?? 0) / (b1.sessionsPerSecond ?? Infinity);
    out.push({ target: 'at 1,000 sessions: throughput ≥ 80% of B1', measured: `${Math.round(share * 100)}% (${big.sessionsPerSecond}/s vs ${b1.sessionsPerSecond}/s)${scale}`, verdict: at1000 ? verdict(share >= 0.8) : 'not measured' });
  }
  const hubRatios = ratios(b).filter((r) => r.against.startsWith('KubeSpawner (home'));
  if (b.kubespawner.skipped || hubRatios.length === 0) out.push({ target: 'faster than JupyterHub + KubeSpawner at every size', measured: b.kubespawner.skipped ? `skipped: ${b.kubespawner.skipped}` : 'no KubeSpawner result', verdict: 'not measured' });
  else {
    const faster = hubRatios.every((r) => (r.p50 ?? Infinity) < 1 && (r.throughput ?? 0) > 1);
    out.push({ target: 'faster than JupyterHub + KubeSpawner at every size', measured: 'against the hub with a home PVC per user, as sessions have: ' + hubRatios.map((r) => `N=${r.size}: p50 ×${r.p50}, throughput ×${r.throughput}`).join('; ') + (b.kubespawner.failedAtSize ? `; the hub failed at N=${b.kubespawner.failedAtSize}` : ''), verdict: verdict(faster) });
  }
  const w1 = sizes.map((s) => workload(b, `w1-${s}`)!).filter((w) => w.operator);
  if (w1.length) {
    const worst = Math.max(...w1.map((w) => w.operator!.writesPerSession));
    out.push({ target: '≤ 5 API writes per session start', measured: w1.map((w) => `N=${w.sessions}: ${w.operator!.writesPerSession} (operator), ${w.api?.writesPerSessionBesidesLoader ?? '?'} (apiserver, all clients but the loader)`).join('; '), verdict: verdict(worst <= 5) });
  }
  const w4 = workload(b, 'w4-idle');
  if (w4?.operator) out.push({ target: '0 writes on an idle resync', measured: `${w4.operator.writes} operator writes in ${w4.extra?.idleSeconds} s idle with ${w4.sessions} sessions${typeof w4.extra?.resyncSeconds === 'number' ? ` (resync every ${w4.extra.resyncSeconds} s)` : ''}`, verdict: verdict(w4.operator.writes === 0) });
  const w3 = workload(b, 'w3-restart');
  if (w3) {
    const x = w3.extra as { stored: number; writesAfter: number; afterSeconds: number; reconciledAllMs?: number; peakRssMb?: number };
    const tenK = x.stored >= 10_000;
    const scale3 = tenK ? '' : ` (${x.stored} stored, not 10,000)`;
    out.push({ target: '0 writes after a restart', measured: `${x.writesAfter} operator writes in the ${x.afterSeconds} s after every stored session was reconciled`, verdict: verdict(x.writesAfter === 0) });
    out.push({ target: '≤ 400 MB operator RSS with 10,000 sessions stored', measured: `${x.peakRssMb} MB peak${scale3}`, verdict: tenK ? verdict((x.peakRssMb ?? Infinity) <= 400) : 'not measured' });
    out.push({ target: 'caches synced and reconciling within 20 s after a restart with 10,000 sessions', measured: x.reconciledAllMs === undefined ? 'never reconciled every stored session' : `${(x.reconciledAllMs / 1000).toFixed(1)} s to reconcile all ${x.stored}${scale3}`, verdict: tenK ? verdict((x.reconciledAllMs ?? Infinity) <= 20_000) : 'not measured' });
  }
  return out;
}
