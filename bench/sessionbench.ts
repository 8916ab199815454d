// SPDX-License-Identifier: Apache-2.0
/**
 * sessionbench: how fast and how cheaply the operator turns AnalysisSessions into Ready
 * pods on the real local control plane (kwok nodes), against raw baselines where the
 * loader creates the objects itself (B0: Pod + Service; B1: also a home PVC, as sessions have). Workloads W1 (burst of N sessions;
 * with BENCH_SIZES, one burst per size in turn, each in a fresh namespace once the previous burst's sessions are gone), W4 (idle:
 * writes per resync), W3 (restart: time to ready, writes afterwards), Q1 (quota contention: N sessions over 20
 * proposal quotas of 3 sessions each, see quota-workload.ts; on a fresh operator, the last W1 burst still running) and
 * W2 (steady arrivals: BENCH_RATES sessions per second for BENCH_ARRIVAL_SECONDS each, on a fresh operator).
 * Writes bench/results/sessionbench.json and bench/results/sessionbench.svg (with `--quick` or BENCH_QUICK=1, a smoke
 * run: N=10, W4 6 s, W2 5 s, into sessionbench-quick.json/.svg). A progress line goes to stderr while a workload runs.
 * N from BENCH_N (default 100; Q1 uses N/5 proposals below 100); KUBECONFIG selects an existing cluster.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { REPO_ROOT } from '../src/cluster/binaries.ts';
import { startLocalCluster } from '../src/cluster/local-cluster.ts';
import { cdfChart } from './chart.ts';
import type { Series } from './chart.ts';
import { delta } from './metrics-text.ts';
import { cpuSeconds, peakRssMb, resetPeakRss, startOperator, stopOperator, writes, writesByVerb } from './operator-process.ts';
import type { OperatorProcess } from './operator-process.ts';
import { benchOptions, nodeLayoutFor } from './options.ts';
import { Progress } from './progress.ts';
import { describeQuotaWorkload, quotaWorkload, QUOTA_LIMIT, summariseP95 } from './quota-workload.ts';
import { summarise } from './stats.ts';
import { arrivalCount, arrivals, baseline, burst, removeSessions } from './workloads.ts';
import type { SessionRun } from './workloads.ts';

const OPTIONS = benchOptions(process.argv.slice(2), process.env);
const N = OPTIONS.n;
const CONCURRENCY = 16;
const RESULTS = join(REPO_ROOT, 'bench', 'results');
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const log = (msg: string) => console.error(`sessionbench: ${msg}`);
const round1 = (x: number) => Math.round(x * 10) / 10;

/** What a session workload cost the operator, measured around it. */
interface Cost { writes: number; writesByVerb: Record<string, number>; cpuSeconds: number; peakRssMb: number; peakRssSince: string }

/** Runs `work` on `op`, measuring the operator's writes, CPU seconds and peak RSS meanwhile. */
async function costOf<T>(op: OperatorProcess, work: () => Promise<T>): Promise<[T, Cost]> {
  const pid = op.child.pid!;
  const writes0 = await writesByVerb(op.port);
  const cpu0 = cpuSeconds(pid);
  const peakRssSince = resetPeakRss(pid) ? 'workload start' : 'operator start';
  const out = await work();
  const byVerb = delta(writes0, await writesByVerb(op.port));
  return [out, { writes: Object.values(byVerb).reduce((a, b) => a + b, 0), writesByVerb: byVerb, cpuSeconds: cpuSeconds(pid) - cpu0, peakRssMb: peakRssMb(pid), peakRssSince }];
}

/** Latency percentiles (with p95), throughput and cost of `n` sessions. */
function sessionFigures(n: number, r: SessionRun, c: Cost) {
  return {
    createToPodCreatedMs: summariseP95(r.podSeen),
    createToPodScheduledMs: summariseP95(r.podScheduled),
    createToPodReadyMs: summariseP95(r.podReady),
    createToSessionReadyMs: summariseP95(r.sessionReady),
    operatorOverheadMs: summariseP95(r.overhead),
    sessionsPerSecond: round1(n / r.seconds),
    writesPerSession: round1(c.writes / n),
    writesByVerb: c.writesByVerb,
    operatorCpuSecondsPerSession: Math.round((c.cpuSeconds / n) * 1000) / 1000,
    operatorPeakRssMb: c.peakRssMb,
    operatorPeakRssSince: c.peakRssSince,
  };
}

/** SVG documents one below the other in one document. */
function stack(svgs: string[]): string {
  const size = svgs.map((s) => /width="(\d+)" height="(\d+)"/.exec(s)!.slice(1).map(Number) as [number, number]);
  const width = Math.max(...size.map(([w]) => w));
  let y = 0;
  const parts = svgs.map((s, i) => {
    const part = s.replace('<svg ', `<svg y="${y}" `);
    y += size[i]![1];
    return part;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}">\n${parts.join('')}</svg>\n`;
}

async function main(): Promise<void> {
  const o = OPTIONS;
  const nodes = nodeLayoutFor(o);
  if (o.quick) log('quick smoke run');
  const cluster = process.env.KUBECONFIG ? undefined : await startLocalCluster({ name: 'bench', nodes });
  const kubeconfig = process.env.KUBECONFIG ?? cluster!.kubeconfig;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const run = Date.now().toString(36);
  try {
    log(`B0: ${N} pods + services created by the loader`);
    const b0 = await baseline(kc, `bench-b0-${run}`, N, CONCURRENCY, false, new Progress('B0', N));
    log(`B1: ${N} home claims + pods + services created by the loader`);
    const b1 = await baseline(kc, `bench-b1-${run}`, N, CONCURRENCY, true, new Progress('B1', N));
    const op = await startOperator(kubeconfig);
    const bursts: Array<{ size: number; run: SessionRun; cost: Cost }> = [];
    let previous: string | undefined;
    for (const [k, size] of o.sizes.entries()) {
      if (previous) {
        log(`W1: removing the ${bursts.at(-1)!.size} sessions of the previous burst`);
        await removeSessions(kc, previous);
      }
      previous = k === 0 ? `bench-w1-${run}` : `bench-w1-${k}-${run}`;
      log(`W1: ${size} sessions through the operator`);
      const ns = previous;
      const [r, cost] = await costOf(op, () => burst(kc, ns, size, CONCURRENCY, new Progress(`W1 ${size}`, size)));
      bursts.push({ size, run: r, cost });
    }
    const first = bursts[0]!;
    const writesAfterW1 = await writes(op.port);
    log(`W4: ${o.idleSeconds} s idle (resync every 5 s)`);
    await new Promise((r) => setTimeout(r, o.idleSeconds * 1000));
    const idleWrites = (await writes(op.port)) - writesAfterW1;
    const rss = peakRssMb(op.child.pid!);
    await stopOperator(op);
    log('W3: restart');
    const again = await startOperator(kubeconfig);
    await new Promise((r) => setTimeout(r, 10_000));
    const restartWrites = await writes(again.port);
    await stopOperator(again);
    log(`Q1: ${N} sessions contending for proposal quotas of ${QUOTA_LIMIT} sessions`);
    const qop = await startOperator(kubeconfig);
    const qcpu0 = cpuSeconds(qop.child.pid!);
    const q1 = await quotaWorkload({ kc, operatorPort: qop.port, n: N, prefix: `bench-q1-${run}`, concurrency: CONCURRENCY, progress: new Progress('Q1', N) });
    const qcpu = cpuSeconds(qop.child.pid!) - qcpu0;
    const qrss = peakRssMb(qop.child.pid!);
    await stopOperator(qop);
    const wop = await startOperator(kubeconfig);
    const steady: Array<{ rate: number; run: SessionRun; cost: Cost }> = [];
    for (const [k, rate] of o.rates.entries()) {
      const n = arrivalCount(rate, o.arrivalSeconds);
      log(`W2: ${n} sessions at ${rate}/s for ${o.arrivalSeconds} s`);
      const ns = `bench-w2-${k}-${run}`;
      const [r, cost] = await costOf(wop, () => arrivals(kc, ns, rate, o.arrivalSeconds, new Progress(`W2 ${rate}/s`, n)));
      steady.push({ rate, run: r, cost });
      await removeSessions(kc, ns);
    }
    await stopOperator(wop);
    const result = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
      quick: o.quick,
      nodes,
      n: N,
      concurrency: CONCURRENCY,
      b0: { what: 'pod + service, created by the loader', createToPodReadyMs: summarise(b0) },
      b1: { what: 'home PVC + pod + service, created by the loader', createToPodReadyMs: summarise(b1) },
      w1: {
        createToPodCreatedMs: summarise(first.run.podSeen),
        createToPodScheduledMs: summarise(first.run.podScheduled),
        createToPodReadyMs: summarise(first.run.podReady),
        createToSessionReadyMs: summarise(first.run.sessionReady),
        operatorOverheadMs: summarise(first.run.overhead),
        sessionsPerSecond: round1(first.size / first.run.seconds),
        writesPerSession: round1(first.cost.writes / first.size),
        operatorCpuSecondsPerSession: Math.round((first.cost.cpuSeconds / first.size) * 1000) / 1000,
        operatorPeakRssMb: o.sizes.length === 1 ? rss : first.cost.peakRssMb,
      },
      w1BySize: bursts.map((b) => ({ size: b.size, ...sessionFigures(b.size, b.run, b.cost) })),
      w4: { idleSeconds: o.idleSeconds, resyncSeconds: 5, writes: idleWrites },
      w3: { restartToReadyMs: again.readyMs, writesIn10sAfterRestart: restartWrites },
      q1: { ...q1.result, operatorCpuSecondsPerSession: Math.round((qcpu / N) * 1000) / 1000, operatorPeakRssMb: qrss },
      w2: {
        what: `sessions created at a steady rate (createsPerSecond: between the first and the last create call returned) for ${o.arrivalSeconds} s each (open loop: session i is sent at i/rate s), on a fresh operator with the last W1 burst still running; each rate's sessions are removed before the next`,
        arrivalSeconds: o.arrivalSeconds,
        byRate: steady.map((s) => ({
          targetPerSecond: s.rate,
          sessions: s.run.podSeen.length,
          createsPerSecond: round1((s.run.podSeen.length - 1) / s.run.createSeconds),
          ...sessionFigures(s.run.podSeen.length, s.run, s.cost),
        })),
      },
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, `${o.resultName}.json`), JSON.stringify(result, null, 2) + '\n');
    writeFileSync(join(RESULTS, `${o.resultName}.svg`), stack(charts(b0, b1, first.run, bursts, steady, q1)));
    console.log(JSON.stringify(result, null, 2));
    console.error(describeQuotaWorkload(q1.result, N));
  } finally {
    await cluster?.stop(true);
  }
}

/** The pictures of one run, top to bottom: baselines and the first burst, Q1, bursts by size (if several), W2 by rate. */
function charts(b0: number[], b1: number[], w1: SessionRun, bursts: Array<{ size: number; run: SessionRun }>, steady: Array<{ rate: number; run: SessionRun }>, q1: Awaited<ReturnType<typeof quotaWorkload>>): string[] {
  const overview = cdfChart(`sessionbench: N=${N} on ${cpus().length} cores (kwok nodes)`, [
    { label: 'B0 loader: pod → pod Ready', values: b0, color: '#999999' },
    { label: 'B1 loader: PVC + pod → pod Ready', values: b1, color: '#2ca02c' },
    { label: 'session: create → pod Ready', values: w1.podReady, color: '#1f77b4' },
    { label: 'session: create → session Ready', values: w1.sessionReady, color: '#d62728' },
  ]);
  const quota = cdfChart(`Q1: ${N} sessions, ${q1.result.proposals} proposal quotas of ${QUOTA_LIMIT} sessions`, [
    { label: 'Q1: create → admitted (reservation in the ledger)', values: q1.admissionWait, color: '#ff7f0e' },
    { label: 'Q1: create → session Ready', values: q1.createToReady, color: '#9467bd' },
  ]).replace('latency from create to Ready (ms)', 'latency from create (ms)').replace('share of objects Ready', 'share of sessions');
  const out = [overview, quota];
  const series = <T>(xs: T[], label: (x: T) => string, values: (x: T) => number[]): Series[] => xs.map((x, i) => ({ label: label(x), values: values(x), color: COLORS[i % COLORS.length]! }));
  if (bursts.length > 1) out.push(cdfChart('W1 by burst size: create → session Ready', series(bursts, (b) => `burst of ${b.size}`, (b) => b.run.sessionReady)));
  if (steady.length > 0) out.push(cdfChart(`W2 steady arrivals (${OPTIONS.arrivalSeconds} s each): create → session Ready`, series(steady, (s) => `${s.rate} sessions/s`, (s) => s.run.sessionReady)));
  return out;
}

main().catch((err: unknown) => {
  console.error(`sessionbench: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
