// SPDX-License-Identifier: Apache-2.0
/**
 * sessionbench: how fast and how cheaply the operator turns AnalysisSessions into Ready
 * pods on the real local control plane (kwok nodes), against raw baselines where the
 * loader creates the objects itself (B0: Pod + Service; B1: also a home PVC, as sessions have). Workloads W1 (burst of N sessions), W4 (idle:
 * writes per resync), W3 (restart: time to ready, writes afterwards) and Q1 (quota contention: N sessions over 20
 * proposal quotas of 3 sessions each, see quota-workload.ts; on a fresh operator, W1's sessions still running).
 * Writes bench/results/sessionbench.json and bench/results/sessionbench.svg.
 * N from BENCH_N (default 100; Q1 uses N/5 proposals below 100); KUBECONFIG selects an existing cluster.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import { REPO_ROOT } from '../src/cluster/binaries.ts';
import { startLocalCluster } from '../src/cluster/local-cluster.ts';
import { freePort, probe, waitFor } from '../src/cluster/wait.ts';
import { LABELS } from '../src/api/v1alpha1/group.ts';
import { spawnOperator } from '../src/operator/spawn.ts';
import { cdfChart } from './chart.ts';
import { describeQuotaWorkload, quotaWorkload, QUOTA_LIMIT } from './quota-workload.ts';
import { summarise } from './stats.ts';

const N = Number(process.env.BENCH_N ?? 100);
const CONCURRENCY = 16;
const RESULTS = join(REPO_ROOT, 'bench', 'results');
const log = (msg: string) => console.error(`sessionbench: ${msg}`);

type Obj = { metadata: { name: string }; status?: { conditions?: Array<{ type: string; status: string }> } };
const isReady = (o: Obj) => o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** Records, per object name, when it was first seen, first scheduled (pods) and first Ready, from a watch on `path`. */
async function watchReady(kc: KubeConfig, path: string, into: Map<string, number>, seen?: Map<string, number>, scheduled?: Map<string, number>): Promise<AbortController> {
  return new Watch(kc).watch(path, {}, (_type, obj: Obj & { spec?: { nodeName?: string } }) => {
    const now = performance.now();
    const name = obj.metadata.name;
    if (seen && !seen.has(name)) seen.set(name, now);
    if (scheduled && !scheduled.has(name) && obj.spec?.nodeName) scheduled.set(name, now);
    if (!into.has(name) && isReady(obj)) into.set(name, now);
  }, () => undefined);
}

/** Runs `task(i)` for i < n with at most `limit` in flight. */
async function pool(n: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < n) await task(next++);
  }));
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(m?.[1] ?? 0) / 1024);
}

async function writes(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return [...text.matchAll(/^controller_runtime_kube_writes_total\{[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
}

async function startOperator(kubeconfig: string): Promise<{ child: ChildProcess; port: number; readyMs: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = spawnOperator({ kubeconfig, port, args: ['--resync-seconds', '5'] });
  await waitFor('the operator', async () => (await probe(`http://127.0.0.1:${port}/readyz`)) === 200, 60_000, '', 50);
  return { child, port, readyMs: Math.round(performance.now() - started) };
}

/** A namespace; sessions go into proposal namespaces (the operator caches Secrets only there). */
async function namespace(core: CoreV1Api, name: string, labels: Record<string, string> = {}): Promise<void> {
  await core.createNamespace({ body: { metadata: { name, labels } } });
  await waitFor(`namespace ${name}`, async () => Boolean(await core.readNamespacedServiceAccount({ name: 'default', namespace: name })), 30_000);
}

/** The loader creates what a session needs without the operator; `withClaim` adds a home PVC (B1). */
async function baseline(kc: KubeConfig, ns: string, withClaim: boolean): Promise<number[]> {
  const core = kc.makeApiClient(CoreV1Api);
  await namespace(core, ns);
  const sent = new Map<string, number>();
  const ready = new Map<string, number>();
  const watch = await watchReady(kc, `/api/v1/namespaces/${ns}/pods`, ready);
  await pool(N, CONCURRENCY, async (i) => {
    const name = `b${i}`;
    sent.set(name, performance.now());
    if (withClaim) await core.createNamespacedPersistentVolumeClaim({ namespace: ns, body: { metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } } } });
    const volumes = withClaim ? [{ name: 'home', persistentVolumeClaim: { claimName: name } }] : [];
    await core.createNamespacedPod({ namespace: ns, body: { metadata: { name, labels: { app: name } }, spec: { volumes, containers: [{ name: 'c', image: 'registry.invalid/x', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } } });
    await core.createNamespacedService({ namespace: ns, body: { metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 8888 }] } } });
  });
  await waitFor('all baseline pods Ready', async () => ready.size >= N, 600_000, '', 100);
  watch.abort();
  return [...sent].map(([name, t]) => ready.get(name)! - t);
}

interface SessionRun { podSeen: number[]; podScheduled: number[]; podReady: number[]; sessionReady: number[]; overhead: number[]; seconds: number }

async function sessions(kc: KubeConfig, ns: string): Promise<SessionRun> {
  const core = kc.makeApiClient(CoreV1Api);
  await namespace(core, ns, { [LABELS.proposal]: '20231234' }); // alice's proposal in the demo configuration
  const custom = kc.makeApiClient(CustomObjectsApi);
  const sent = new Map<string, number>();
  const pods = new Map<string, number>();
  const podSeen = new Map<string, number>();
  const podScheduled = new Map<string, number>();
  const ready = new Map<string, number>();
  const w1 = await watchReady(kc, `/api/v1/namespaces/${ns}/pods`, pods, podSeen, podScheduled);
  const w2 = await watchReady(kc, `/apis/panalysis.io/v1alpha1/namespaces/${ns}/analysissessions`, ready);
  const started = performance.now();
  await pool(N, CONCURRENCY, async (i) => {
    const name = `s${i}`;
    sent.set(name, performance.now());
    const body = { apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', metadata: { name }, spec: { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy', resources: { cpu: '100m', memory: '256Mi' } } };
    await custom.createNamespacedCustomObject({ group: 'panalysis.io', version: 'v1alpha1', plural: 'analysissessions', namespace: ns, body });
  });
  await waitFor('all sessions Ready', async () => ready.size >= N, 900_000, '', 100);
  const seconds = (performance.now() - started) / 1000;
  w1.abort();
  w2.abort();
  const names = [...sent.keys()];
  return {
    podSeen: names.map((n) => podSeen.get(n)! - sent.get(n)!),
    podScheduled: names.map((n) => podScheduled.get(n)! - sent.get(n)!),
    podReady: names.map((n) => pods.get(n)! - sent.get(n)!),
    sessionReady: names.map((n) => ready.get(n)! - sent.get(n)!),
    overhead: names.map((n) => ready.get(n)! - pods.get(n)!),
    seconds,
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
  const cluster = process.env.KUBECONFIG ? undefined : await startLocalCluster({ name: 'bench' });
  const kubeconfig = process.env.KUBECONFIG ?? cluster!.kubeconfig;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const run = Date.now().toString(36);
  try {
    log(`B0: ${N} pods + services created by the loader`);
    const b0 = await baseline(kc, `bench-b0-${run}`, false);
    log(`B1: ${N} home claims + pods + services created by the loader`);
    const b1 = await baseline(kc, `bench-b1-${run}`, true);
    log(`W1: ${N} sessions through the operator`);
    const op = await startOperator(kubeconfig);
    const cpu0 = cpuSeconds(op.child.pid!);
    const w1 = await sessions(kc, `bench-w1-${run}`);
    const writesAfterW1 = await writes(op.port);
    const cpuW1 = cpuSeconds(op.child.pid!) - cpu0;
    log('W4: 15 s idle (three resyncs)');
    await new Promise((r) => setTimeout(r, 15_000));
    const idleWrites = (await writes(op.port)) - writesAfterW1;
    const rss = peakRssMb(op.child.pid!);
    op.child.kill('SIGTERM');
    await new Promise((r) => op.child.once('exit', r));
    log('W3: restart');
    const again = await startOperator(kubeconfig);
    await new Promise((r) => setTimeout(r, 10_000));
    const restartWrites = await writes(again.port);
    again.child.kill('SIGTERM');
    await new Promise((r) => again.child.once('exit', r));
    log(`Q1: ${N} sessions contending for proposal quotas of ${QUOTA_LIMIT} sessions`);
    const qop = await startOperator(kubeconfig);
    const qcpu0 = cpuSeconds(qop.child.pid!);
    const q1 = await quotaWorkload({ kc, operatorPort: qop.port, n: N, prefix: `bench-q1-${run}`, concurrency: CONCURRENCY });
    const qcpu = cpuSeconds(qop.child.pid!) - qcpu0;
    const qrss = peakRssMb(qop.child.pid!);
    qop.child.kill('SIGTERM');
    await new Promise((r) => qop.child.once('exit', r));
    const result = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
      n: N,
      concurrency: CONCURRENCY,
      b0: { what: 'pod + service, created by the loader', createToPodReadyMs: summarise(b0) },
      b1: { what: 'home PVC + pod + service, created by the loader', createToPodReadyMs: summarise(b1) },
      w1: {
        createToPodCreatedMs: summarise(w1.podSeen),
        createToPodScheduledMs: summarise(w1.podScheduled),
        createToPodReadyMs: summarise(w1.podReady),
        createToSessionReadyMs: summarise(w1.sessionReady),
        operatorOverheadMs: summarise(w1.overhead),
        sessionsPerSecond: Math.round((N / w1.seconds) * 10) / 10,
        writesPerSession: Math.round((writesAfterW1 / N) * 10) / 10,
        operatorCpuSecondsPerSession: Math.round((cpuW1 / N) * 1000) / 1000,
        operatorPeakRssMb: rss,
      },
      w4: { idleSeconds: 15, resyncSeconds: 5, writes: idleWrites },
      w3: { restartToReadyMs: again.readyMs, writesIn10sAfterRestart: restartWrites },
      q1: { ...q1.result, operatorCpuSecondsPerSession: Math.round((qcpu / N) * 1000) / 1000, operatorPeakRssMb: qrss },
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 'sessionbench.json'), JSON.stringify(result, null, 2) + '\n');
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
    writeFileSync(join(RESULTS, 'sessionbench.svg'), stack([overview, quota]));
    console.log(JSON.stringify(result, null, 2));
    console.error(describeQuotaWorkload(q1.result, N));
  } finally {
    await cluster?.stop(true);
  }
}

main().catch((err: unknown) => {
  console.error(`sessionbench: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
