// SPDX-License-Identifier: Apache-2.0
/**
 * sessionbench: how fast and how cheaply the operator turns AnalysisSessions into Ready pods on
 * the real local control plane (kwok nodes), side by side with the loader creating the objects
 * itself (B0: a pod; B1: also a home PVC and a Secret, as sessions have, and one NetworkPolicy for the namespace) and with JupyterHub +
 * KubeSpawner (bench/kubespawner, when present). In order, on one cluster:
 * B0, B1; per BENCH_SIZES burst size W1 (N sessions at once, each size in a fresh namespace once
 * the previous burst's sessions are gone) then the hub's burst of the same size (home PVC per
 * user; at the first size also without storage); W3 (top up the last burst to BENCH_STORED
 * sessions, restart the operator with a short resync period: time to readyz and to every stored
 * session reconciled, writes afterwards); W4 (idle on that operator: writes per resync); W5
 * (BENCH_IDLE_SECONDS without activity on it, then one session); Q1 (quota contention,
 * quota-workload.ts, on a fresh operator); W2 (steady arrivals per BENCH_RATES, on a fresh
 * operator). The bursts, Q1 and W2 run with the chart's resync period. Options: options.ts.
 *
 * Writes bench/results/<workload>.json and .svg per workload, the combined
 * bench/results/sessionbench.json (+ .svg) and docs/benchmarks.md (report.ts); `--quick` or
 * BENCH_QUICK=1 writes into bench/results/quick/ and sessionbench-quick.json instead. A progress
 * line goes to stderr while a workload runs. KUBECONFIG selects an existing cluster (then the
 * apiserver's and etcd's CPU are not measured).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { REPO_ROOT } from '../src/cluster/binaries.ts';
import { startLocalCluster } from '../src/cluster/local-cluster.ts';
import { waitFor } from '../src/cluster/wait.ts';
import { cdfChart, stack } from './chart.ts';
import { loadHub } from './hub.ts';
import type { HubModule } from './hub.ts';
import { observe } from './observe.ts';
import type { ObserveContext } from './observe.ts';
import { CHART_RESYNC_SECONDS, RECORDED_NODE_OPTIONS, peakRssMb, sessionReconciles, startOperator, stopOperator } from './operator-process.ts';
import type { OperatorProcess } from './operator-process.ts';
import { benchOptions, nodeLayoutFor } from './options.ts';
import { Progress } from './progress.ts';
import { describeQuotaWorkload, quotaWorkload, QUOTA_LIMIT } from './quota-workload.ts';
import { reportPaths, writeReport } from './report.ts';
import type { Bundle } from './report-model.ts';
import { withoutRaw, workloadPicture, workloadResult } from './result-model.ts';
import type { WorkloadResult } from './result-model.ts';
import { arrivalCount, arrivals, baseline, burst, removeSessions } from './workloads.ts';
import type { SessionRun } from './workloads.ts';

const OPTIONS = benchOptions(process.argv.slice(2), process.env);
const N = OPTIONS.n;
const CONCURRENCY = 16;
const log = (msg: string) => console.error(`sessionbench: ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Latencies of a session run, by name. */
const latencies = (r: SessionRun) => ({ podCreated: r.podSeen, podScheduled: r.podScheduled, podReady: r.podReady, sessionReady: r.sessionReady, overhead: r.overhead, burstReady: r.readyTimes.map((t) => t * 1000) });

/** Versions from scripts/versions.env plus Node's. */
function versions(): Record<string, string> {
  const env = Object.fromEntries(readFileSync(join(REPO_ROOT, 'scripts', 'versions.env'), 'utf8').split('\n').filter((l) => /^\w+=/.test(l)).map((l) => l.split('=') as [string, string]));
  return { Kubernetes: env.K8S_VERSION ?? '?', etcd: env.ETCD_VERSION ?? '?', kwok: env.KWOK_VERSION ?? '?', Node: process.version };
}

/** Deletes namespace `ns` if it is there and waits (at most 10 min) until it is gone. */
async function dropNamespace(kc: KubeConfig, ns: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  try {
    await core.deleteNamespace({ name: ns });
    await waitFor(`namespace ${ns} gone`, async () => {
      try {
        await core.readNamespace({ name: ns });
        return false;
      } catch {
        return true;
      }
    }, 600_000, '', 500);
  } catch {
    // not there (the hub module removes its namespace itself), or not removable: the cluster goes at the end
  }
}

async function main(): Promise<void> {
  const o = OPTIONS;
  const nodes = nodeLayoutFor(o);
  if (o.quick) log('quick smoke run');
  const paths = reportPaths(o.resultDir);
  mkdirSync(paths.results, { recursive: true });
  const cluster = process.env.KUBECONFIG ? undefined : await startLocalCluster({ name: 'bench', nodes });
  const kubeconfig = process.env.KUBECONFIG ?? cluster!.kubeconfig;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const run = Date.now().toString(36);
  const pids = { apiserver: cluster?.supervisor.pid('kube-apiserver'), etcd: cluster?.supervisor.pid('etcd') };
  const settleMs = o.quick ? 2000 : 5000;
  const ctx = (op?: OperatorProcess, settle = settleMs): ObserveContext => ({ kc, op, pids, settleMs: settle });
  const results: WorkloadResult[] = [];
  let succeeded = false;
  const full: WorkloadResult[] = [];
  const save = (w: WorkloadResult) => {
    full.push(w);
    writeFileSync(join(paths.results, `${w.id}.json`), JSON.stringify(w, null, 1) + '\n');
    const svg = workloadPicture(w);
    if (svg) writeFileSync(join(paths.results, `${w.id}.svg`), svg);
    results.push(withoutRaw(w));
  };
  const hub = await loadHub(o.kubespawnerSkipped);
  const hubSkipped = 'skipped' in hub ? hub.skipped : undefined;
  if (hubSkipped) log(`JupyterHub + KubeSpawner: skipped (${hubSkipped})`);
  let hubFailedAt: number | undefined;
  try {
    for (const withClaim of [false, true]) {
      const id = withClaim ? 'b1' : 'b0';
      log(`${id.toUpperCase()}: ${N} ${withClaim ? 'home claims, Secrets and ' : ''}pods created by the loader`);
      const p = new Progress(id.toUpperCase(), N);
      const obs = await observe(ctx(undefined, 0), () => p.counts(), () => baseline(kc, `bench-${id}-${run}`, N, CONCURRENCY, withClaim, p), (r) => ({ sessions: N, loaderWrites: r.loaderWrites }));
      save(workloadResult({ id, system: 'loader', sessions: N, seconds: obs.out.seconds, title: withClaim ? 'B1: the loader creates a home PVC, a Secret and a pod' : 'B0: the loader creates a pod', what: `The load generator itself creates ${withClaim ? `one NetworkPolicy for the namespace, then ${N} PersistentVolumeClaims and Secrets (together), then ` : `${N} `}pods, ${CONCURRENCY} creations in flight: the platform's ceiling without the operator.` }, { podReady: obs.out.podReady, burstReady: obs.out.burstReady }, obs));
    }
    const op = await startOperator(kubeconfig, CHART_RESYNC_SECONDS);
    let lastNs = '';
    for (const [k, size] of o.sizes.entries()) {
      if (lastNs) {
        log(`W1: removing the sessions of the previous burst`);
        await removeSessions(kc, lastNs);
      }
      if (size > N) {
        // B1 at this size too, so that the burst is compared with the platform at the same scale; removed before W1.
        const id = `b1-${size}`;
        const bns = `bench-${id}-${run}`;
        log(`B1: ${size} home claims + pods created by the loader`);
        const pb = new Progress(`B1 ${size}`, size);
        const ob = await observe(ctx(undefined, 0), () => pb.counts(), () => baseline(kc, bns, size, CONCURRENCY, true, pb), (r) => ({ sessions: size, loaderWrites: r.loaderWrites }));
        save(workloadResult({ id, system: 'loader', sessions: size, seconds: ob.out.seconds, title: `B1 at ${size}: the loader creates a home PVC, a Secret and a pod`, what: `The load generator itself creates one NetworkPolicy for the namespace, then ${size} PersistentVolumeClaims and Secrets (together), then pods, ${CONCURRENCY} creations in flight: the platform's ceiling at the size of the next W1 burst (removed before it).` }, { podReady: ob.out.podReady, burstReady: ob.out.burstReady }, ob));
        await dropNamespace(kc, bns);
      }
      lastNs = `bench-w1-${k}-${run}`;
      log(`W1: ${size} sessions through the operator`);
      const p = new Progress(`W1 ${size}`, size);
      const ns = lastNs;
      const obs = await observe(ctx(op), () => p.counts(), () => burst(kc, ns, size, CONCURRENCY, p), () => ({ sessions: size, loaderWrites: size }));
      save(workloadResult({ id: `w1-${size}`, system: 'panalysis', sessions: size, seconds: obs.out.seconds, title: `W1: burst of ${size} sessions`, what: `${size} AnalysisSessions created at once (${CONCURRENCY} creations in flight) in a fresh proposal namespace; the operator creates each session's home PVC, Secret and pod, and the namespace's NetworkPolicy once. ${k > 0 ? 'The previous burst\'s sessions were removed first. ' : ''}One operator, as the chart installs it (resync every ${CHART_RESYNC_SECONDS} s), started after B0 and B1, runs all bursts.` }, latencies(obs.out), obs));
      if (!hubSkipped && hubFailedAt === undefined) hubFailedAt = await hubBursts(hub as HubModule, kubeconfig, size, k === 0, run, ctx(), save);
    }
    const last = o.sizes.at(-1)!;
    const restarted = await restart(op, kubeconfig, lastNs, last, ctx, save);
    log(`W4: ${o.resyncIdleSeconds} s idle (resync every ${o.resyncSeconds} s)`);
    const w4 = await observe(ctx(restarted, 0), () => ({ created: o.stored, ready: o.stored }), () => sleep(o.resyncIdleSeconds * 1000), () => ({ sessions: o.stored, loaderWrites: 0 }));
    save(workloadResult({ id: 'w4-idle', system: 'panalysis', sessions: o.stored, title: 'W4: idle resync', what: `Nothing happens for ${o.resyncIdleSeconds} s while the ${o.stored} sessions W3 stored run; the operator W3 restarted resyncs every ${o.resyncSeconds} s, so every session is reconciled again without any change. Target: no write.`, extra: { idleSeconds: o.resyncIdleSeconds, resyncSeconds: o.resyncSeconds } }, {}, w4));
    log(`W5: ${o.idleSeconds} s without activity, then one session`);
    const p5 = new Progress('W5', 1);
    const w5 = await observe(ctx(restarted), () => p5.counts(), async () => {
      await sleep(o.idleSeconds * 1000);
      return burst(kc, lastNs, 1, 1, p5, { first: o.stored, existing: true });
    }, () => ({ sessions: 1, loaderWrites: 1 }));
    save(workloadResult({ id: 'w5-idle-one', system: 'panalysis', sessions: 1, title: `W5: one session after ${o.idleSeconds} s idle`, what: `The operator restarted by W3 (resync every ${o.resyncSeconds} s) sees no activity for ${o.idleSeconds} s (its watches idle but for resyncs), then one session is created among the ${o.stored} stored ones. Catches watches that went stale while idle: create → pod created and → session Ready should be as fast as in a burst.`, extra: { idleSeconds: o.idleSeconds } }, latencies(w5.out), w5));
    await stopOperator(restarted);
    log(`Q1: ${N} sessions contending for proposal quotas of ${QUOTA_LIMIT} sessions`);
    const qop = await startOperator(kubeconfig, CHART_RESYNC_SECONDS);
    const pq = new Progress('Q1', N);
    const q1 = await observe(ctx(qop), () => pq.counts(), () => quotaWorkload({ kc, operatorPort: qop.port, n: N, prefix: `bench-q1-${run}`, concurrency: CONCURRENCY, progress: pq }), (q) => ({ sessions: N, loaderWrites: 2 * N + 2 * q.result.proposals }));
    const { what: q1what, ...q1extra } = q1.out.result;
    save(workloadResult({ id: 'q1', system: 'panalysis', sessions: N, seconds: q1.out.result.secondsToAllReleased, title: `Q1: quota contention over ${q1.out.result.proposals} proposals`, what: q1what, extra: q1extra }, { sessionReady: q1.out.createToReady }, q1));
    await stopOperator(qop);
    console.error(describeQuotaWorkload(q1.out.result, N));
    const wop = await startOperator(kubeconfig, CHART_RESYNC_SECONDS);
    for (const [k, rate] of o.rates.entries()) {
      const n = arrivalCount(rate, o.arrivalSeconds);
      log(`W2: ${n} sessions at ${rate}/s for ${o.arrivalSeconds} s`);
      const ns = `bench-w2-${k}-${run}`;
      const p = new Progress(`W2 ${rate}/s`, n);
      const obs = await observe(ctx(wop), () => p.counts(), () => arrivals(kc, ns, rate, o.arrivalSeconds, p), () => ({ sessions: n, loaderWrites: n }));
      save(workloadResult({ id: `w2-${rate}`, system: 'panalysis', sessions: n, seconds: obs.out.seconds, title: `W2: ${rate} sessions per second`, what: `${n} sessions created at a steady ${rate} per second for ${o.arrivalSeconds} s (open loop: session i is sent at i/rate s), on a fresh operator with the ${o.stored} W3 sessions still running; each rate's sessions are removed before the next.`, extra: { targetPerSecond: rate, createsPerSecond: Math.round(((n - 1) / Math.max(0.001, obs.out.createSeconds)) * 10) / 10 } }, latencies(obs.out), obs));
      await removeSessions(kc, ns);
    }
    await stopOperator(wop);
    const bundle: Bundle = {
      date: new Date().toISOString(),
      quick: o.quick,
      machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30 * 10) / 10, os: `Linux ${release()}` },
      versions: { ...versions(), ...('KUBESPAWNER_VERSIONS' in hub ? { JupyterHub: hub.KUBESPAWNER_VERSIONS.jupyterhub, KubeSpawner: hub.KUBESPAWNER_VERSIONS.kubespawner, 'configurable-http-proxy': hub.KUBESPAWNER_VERSIONS.configurableHttpProxy } : {}) },
      options: { n: N, sizes: o.sizes, rates: o.rates, arrivalSeconds: o.arrivalSeconds, stored: o.stored, idleSeconds: o.idleSeconds, resyncSeconds: o.resyncSeconds, chartResyncSeconds: CHART_RESYNC_SECONDS, resyncIdleSeconds: o.resyncIdleSeconds, concurrency: CONCURRENCY, operatorNodeOptions: RECORDED_NODE_OPTIONS },
      nodes,
      kubespawner: { ...(hubSkipped ? { skipped: hubSkipped } : {}), ...(hubFailedAt ? { failedAtSize: hubFailedAt } : {}) },
      workloads: results,
    };
    writeFileSync(paths.combined, JSON.stringify(bundle, null, 2) + '\n');
    writeFileSync(paths.combined.replace(/\.json$/, '.svg'), overview(full));
    log(`wrote ${writeReport(o.resultDir)}`);
    console.log(JSON.stringify(bundle, null, 2));
    succeeded = true;
  } finally {
    // A failed run keeps the cluster's logs for a look (`panalysis cluster down --name bench` removes them).
    await cluster?.stop(succeeded);
  }
}

/** JupyterHub's default `concurrent_spawn_limit`. */
const HUB_DEFAULT_SPAWN_LIMIT = 100;

/** The hub's burst(s) of `size` after W1's: with a home PVC per user (at the first size also without storage, when asked); the size it failed at, if it did. */
async function hubBursts(hub: HubModule, kubeconfig: string, size: number, first: boolean, run: string, c: ObserveContext, save: (w: WorkloadResult) => void): Promise<number | undefined> {
  // Without storage only when asked (BENCH_HUB_NOSTORAGE=1): the like-for-like baseline has a home claim per user, as sessions have.
  for (const withStorage of first && process.env.BENCH_HUB_NOSTORAGE === '1' ? [true, false] : [true]) {
    const id = `kubespawner-${size}${withStorage ? '' : '-nostorage'}`;
    const namespace = `bench-hub-${size}${withStorage ? '' : '-ns'}-${run}`;
    log(`KubeSpawner: ${size} servers through JupyterHub${withStorage ? ', a home PVC each' : ', no storage'}`);
    const p = new Progress(`KubeSpawner ${size}`, size);
    let obs;
    try {
      obs = await observe(c, () => p.counts(), () => hub.kubespawnerBurst({ kubeconfig, namespace, size, withStorage, concurrency: size, concurrentSpawnLimit: Math.max(HUB_DEFAULT_SPAWN_LIMIT, size), onProgress: (created, ready) => p.set(created, ready) }), () => ({ sessions: size, loaderWrites: 0 }));
    } catch (err) {
      p.done();
      const reason = (err instanceof Error ? err.message : String(err)).split('\n').slice(0, 3).join(' ').slice(0, 400);
      save({ id, system: 'kubespawner', sessions: size, title: `JupyterHub + KubeSpawner: burst of ${size}`, what: 'The hub module threw.', latencyMs: {}, failed: { reason, ready: p.counts().ready } });
      await dropNamespace(c.kc, namespace);
      return size;
    }
    p.done();
    const h = obs.out;
    const w = workloadResult({ id, system: 'kubespawner', sessions: size, seconds: h.seconds, title: `JupyterHub + KubeSpawner: burst of ${size}${withStorage ? ' (home PVC)' : ' (no storage)'}`, what: `${size} users' servers spawned at once through JupyterHub's REST API (every spawn request sent at once, as ${size} users pressing start together: the hub answers a request only once its server is ready, so requests a client held back would hide their wait from the latencies; concurrent_spawn_limit raised from its default ${HUB_DEFAULT_SPAWN_LIMIT} to ${Math.max(HUB_DEFAULT_SPAWN_LIMIT, size)}, since with the default the hub answers 429 to the request after the ${HUB_DEFAULT_SPAWN_LIMIT}th; KubeSpawner, kwok pods${withStorage ? ', a home PVC per user' : ', no storage'}) by bench/kubespawner (a fresh hub and proxy per burst, in a namespace of its own on the same cluster, removed afterwards), right after W1's burst of the same size. API figures count the hub's requests (there is no loader write); CPU and API figures span the hub's start and stop too, the latencies only the spawns.`, extra: { hubCpuSeconds: h.hubCpuSeconds, hubPeakRssMb: h.hubPeakRssMb, proxyCpuSeconds: h.proxyCpuSeconds, serversPerSecond: h.serversPerSecond } }, { podCreated: h.podCreated, podReady: h.podReady, sessionReady: h.serverReady }, obs);
    if (h.seconds > 0) w.sessionsPerSecond = h.serversPerSecond;
    if (h.failed) w.failed = h.failed;
    save(w);
    if (h.failed) {
      log(`KubeSpawner failed at ${size}: ${h.failed.reason}; not run at larger sizes`);
      return size;
    }
  }
  return undefined;
}

/** W3: tops the last burst's namespace up to the stored count, restarts the operator and measures it; returns the fresh operator. */
async function restart(op: OperatorProcess, kubeconfig: string, ns: string, running: number, ctx: (op?: OperatorProcess, settle?: number) => ObserveContext, save: (w: WorkloadResult) => void): Promise<OperatorProcess> {
  const o = OPTIONS;
  const kc = ctx().kc;
  let topUp: Record<string, number> = {};
  if (o.stored > running) {
    const n = o.stored - running;
    log(`W3: ${n} more sessions, ${o.stored} stored`);
    const p = new Progress(`W3 top-up ${n}`, n);
    const r = await burst(kc, ns, n, CONCURRENCY, p, { first: running, existing: true });
    topUp = { topUpSessions: n, topUpSeconds: Math.round(r.seconds * 10) / 10, topUpSessionsPerSecond: Math.round((n / r.seconds) * 10) / 10 };
  }
  log(`W3: restart with ${o.stored} sessions stored`);
  await stopOperator(op);
  const t0 = performance.now();
  const again = await startOperator(kubeconfig, o.resyncSeconds);
  const p = new Progress('W3 reconciled', o.stored);
  let reconciledAllMs: number | undefined;
  let seen = { reconciles: 0, queued: 0 };
  try {
    await waitFor('every stored session reconciled', async () => {
      seen = await sessionReconciles(again.port);
      p.set(o.stored, Math.min(o.stored, seen.reconciles));
      return seen.reconciles >= o.stored && seen.queued === 0;
    }, 600_000, '', 250);
    reconciledAllMs = Math.round(performance.now() - t0);
  } catch {
    log(`W3: only ${seen.reconciles} reconciles after 10 min`);
  }
  p.done();
  const startupPeak = peakRssMb(again.child.pid!);
  log(`W3: counting writes for ${o.afterRestartSeconds} s`);
  const obs = await observe(ctx(again, 0), () => ({ created: o.stored, ready: o.stored }), () => sleep(o.afterRestartSeconds * 1000), () => ({ sessions: o.stored, loaderWrites: 0 }));
  const after = await sessionReconciles(again.port);
  save(workloadResult({ id: 'w3-restart', system: 'panalysis', sessions: o.stored, title: `W3: restart with ${o.stored} sessions stored`, what: `The last burst's namespace is topped up to ${o.stored} running sessions through the operator, then the operator is stopped and a fresh one started. Measured: spawn → /readyz, spawn → every stored session reconciled once (controller_runtime_reconcile_total{controller="analysissession"} ≥ sessions stored and the session queue empty), and the operator's writes in the ${o.afterRestartSeconds} s after that (target 0). Memory: peak from the start (startup) and over the ${o.afterRestartSeconds} s.`, extra: { stored: o.stored, readyzMs: again.readyMs, ...(reconciledAllMs !== undefined ? { reconciledAllMs } : {}), reconcilesAtAllReconciled: seen.reconciles, reconcilesInWindow: after.reconciles - seen.reconciles, writesAfter: obs.operator?.writes ?? 0, afterSeconds: o.afterRestartSeconds, peakRssMb: Math.max(startupPeak, obs.operator?.peakRssMb ?? 0), startupPeakRssMb: startupPeak, ...topUp } }, {}, obs));
  return again;
}

const COLORS = ['#1f77b4', '#d62728', '#9467bd', '#ff7f0e', '#8c564b', '#17becf', '#bcbd22'];

/** The combined picture: B0 and B1 (pod Ready), each W1 burst (session Ready) and each hub burst (server ready). */
function overview(ws: readonly WorkloadResult[]): string {
  const end = (w: WorkloadResult) => w.raw?.latencies.sessionReady ?? w.raw?.latencies.podReady ?? [];
  const chosen = ws.filter((w) => /^(b0|b1|w1-\d+|kubespawner-.*)$/.test(w.id) && end(w).length);
  const series = chosen.map((w, i) => ({ label: w.title, values: end(w), color: w.id === 'b0' ? '#999999' : w.id === 'b1' ? '#2ca02c' : COLORS[i % COLORS.length]! }));
  return stack([cdfChart(`sessionbench on ${cpus().length} cores (kwok nodes): create → Ready`, series, { y: 'share Ready' })]);
}

main().catch((err: unknown) => {
  console.error(`sessionbench: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
