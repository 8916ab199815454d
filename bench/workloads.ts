// SPDX-License-Identifier: Apache-2.0
/**
 * The session workloads of sessionbench against a running operator, timed from watches
 * (client clock): the loader baselines B0/B1, W1 (a burst of sessions, at most
 * `concurrency` creations in flight) and W2 (sessions created at a steady rate), and the
 * removal of a workload's sessions before the next one.
 */
import { CoreV1Api, CustomObjectsApi, NetworkingV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { LABELS } from '../src/api/v1alpha1/group.ts';
import { waitFor } from '../src/cluster/wait.ts';
import { keepWatching } from './keep-watch.ts';
import type { KeptWatch } from './keep-watch.ts';
import type { Progress } from './progress.ts';

const G = { group: 'panalysis.io', version: 'v1alpha1', plural: 'analysissessions' };

type Obj = { metadata: { name: string }; status?: { conditions?: Array<{ type: string; status: string }> } };
const isReady = (o: Obj) => o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** Records, per object name (those `keep` accepts), when it was first seen, first scheduled (pods) and first Ready, from a watch on `path`; calls `changed` after each event. */
async function watchReady(kc: KubeConfig, path: string, into: Map<string, number>, seen?: Map<string, number>, scheduled?: Map<string, number>, changed?: () => void, keep: (name: string) => boolean = () => true): Promise<KeptWatch> {
  return keepWatching(kc, path, {}, (_type, obj: Obj & { spec?: { nodeName?: string } }) => {
    const now = performance.now();
    const name = obj.metadata.name;
    if (!keep(name)) return;
    if (seen && !seen.has(name)) seen.set(name, now);
    if (scheduled && !scheduled.has(name) && obj.spec?.nodeName) scheduled.set(name, now);
    if (!into.has(name) && isReady(obj)) into.set(name, now);
    changed?.();
  });
}

/** Runs `task(i)` for i < n with at most `limit` in flight. */
export async function pool(n: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < n) await task(next++);
  }));
}

/** A namespace; sessions go into proposal namespaces (the operator caches Secrets only there). */
async function namespace(core: CoreV1Api, name: string, labels: Record<string, string> = {}): Promise<void> {
  await core.createNamespace({ body: { metadata: { name, labels } } });
  await waitFor(`namespace ${name}`, async () => Boolean(await core.readNamespacedServiceAccount({ name: 'default', namespace: name })), 30_000);
}

/** A loader baseline: per object, ms from the create call to pod Ready; first create → last pod Ready. */
export interface BaselineRun {
  podReady: number[];
  /** ms from the first create sent to each pod Ready (the wait in the loader's own queue included). */
  burstReady: number[];
  seconds: number;
  /** Writes the loader sent (its creates). */
  loaderWrites: number;
}

/** The loader creates what a session needs without the operator: B0 a pod; B1 (`withClaim`) also its home PVC and Secret, and one NetworkPolicy for the namespace. */
export async function baseline(kc: KubeConfig, ns: string, n: number, concurrency: number, withClaim: boolean, progress: Progress): Promise<BaselineRun> {
  const core = kc.makeApiClient(CoreV1Api);
  const net = kc.makeApiClient(NetworkingV1Api);
  await namespace(core, ns);
  const sent = new Map<string, number>();
  const ready = new Map<string, number>();
  let created = 0;
  const watch = await watchReady(kc, `/api/v1/namespaces/${ns}/pods`, ready, undefined, undefined, () => progress.set(created, ready.size));
  const started = performance.now();
  // One NetworkPolicy for the namespace's pods, as the operator makes for its sessions.
  if (withClaim) await net.createNamespacedNetworkPolicy({ namespace: ns, body: { metadata: { name: 'sessions' }, spec: { podSelector: { matchLabels: { role: 'session' } }, policyTypes: ['Ingress'], ingress: [{ _from: [{ podSelector: { matchLabels: { app: 'gateway' } } }], ports: [{ port: 8888, protocol: 'TCP' }] }] } } });
  await pool(n, concurrency, async (i) => {
    const name = `b${i}`;
    sent.set(name, performance.now());
    // As the operator does: the claim and the credentials together, then the pod that uses them.
    if (withClaim) {
      await Promise.all([
        core.createNamespacedPersistentVolumeClaim({ namespace: ns, body: { metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } } } }),
        core.createNamespacedSecret({ namespace: ns, body: { metadata: { name }, stringData: { token: name } } }),
      ]);
    }
    const volumes = withClaim ? [{ name: 'home', persistentVolumeClaim: { claimName: name } }, { name: 'token', secret: { secretName: name } }] : [];
    await core.createNamespacedPod({ namespace: ns, body: { metadata: { name, labels: { app: name, role: 'session' } }, spec: { volumes, containers: [{ name: 'c', image: 'registry.invalid/x', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } } });
    progress.set(++created, ready.size);
  });
  await waitFor('all baseline pods Ready', async () => ready.size >= n, 600_000, '', 100);
  watch.abort();
  progress.done();
  return {
    podReady: [...sent].map(([name, t]) => ready.get(name)! - t),
    burstReady: [...sent.keys()].map((name) => ready.get(name)! - started),
    seconds: (Math.max(...ready.values()) - started) / 1000,
    loaderWrites: withClaim ? 3 * n + 1 : n,
  };
}

/** Per session, ms from the create call: pod seen, scheduled, Ready, session Ready; and session Ready − pod Ready. */
export interface SessionRun {
  podSeen: number[];
  podScheduled: number[];
  podReady: number[];
  sessionReady: number[];
  overhead: number[];
  /** First create sent → last session Ready. */
  seconds: number;
  /** First create call returned → last one returned. */
  createSeconds: number;
  /** Seconds from the first create sent to each session Ready, ascending. */
  readyTimes: number[];
}

/** Where {@link burst} puts its sessions: names s<first>… in namespace `ns`, created unless `existing`. */
export interface Placement {
  first?: number;
  existing?: boolean;
}

/** Creates `n` sessions in proposal namespace `ns` (fresh unless `at.existing`); `drive` sends the creations, calling `create(i)` when it wants session i. */
async function measure(kc: KubeConfig, ns: string, n: number, progress: Progress, drive: (create: (i: number) => Promise<void>) => Promise<void>, at: Placement = {}): Promise<SessionRun> {
  const core = kc.makeApiClient(CoreV1Api);
  if (!at.existing) await namespace(core, ns, { [LABELS.proposal]: '20231234' }); // alice's proposal in the demo configuration
  const first = at.first ?? 0;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const sent = new Map<string, number>();
  const pods = new Map<string, number>();
  const podSeen = new Map<string, number>();
  const podScheduled = new Map<string, number>();
  const ready = new Map<string, number>();
  let created = 0;
  const changed = () => progress.set(created, ready.size);
  const own = (name: string) => {
    const k = Number(name.slice(1));
    return k >= first && k < first + n;
  };
  const w1 = await watchReady(kc, `/api/v1/namespaces/${ns}/pods`, pods, podSeen, podScheduled, undefined, own);
  const w2 = await watchReady(kc, `/apis/${G.group}/${G.version}/namespaces/${ns}/${G.plural}`, ready, undefined, undefined, changed, own);
  const started = performance.now();
  let firstCreated: number | undefined;
  let lastCreated = started;
  await drive(async (i) => {
    const name = `s${first + i}`;
    sent.set(name, performance.now());
    const body = { apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', metadata: { name }, spec: { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy', resources: { cpu: '100m', memory: '256Mi' } } };
    await custom.createNamespacedCustomObject({ ...G, namespace: ns, body });
    created++;
    lastCreated = performance.now();
    firstCreated ??= lastCreated;
    changed();
  });
  await waitFor('all sessions Ready', async () => ready.size >= n, 3_600_000, '', 100);
  // The pod watch may trail the session watch (it starts with every pod already in the namespace); a Ready session has a Ready pod.
  await waitFor('every session pod seen Ready', async () => pods.size >= n, 120_000, '', 50);
  const names = [...sent.keys()];
  const seconds = (Math.max(...names.map((s) => ready.get(s)!)) - started) / 1000;
  w1.abort();
  w2.abort();
  progress.done();
  return {
    podSeen: names.map((s) => podSeen.get(s)! - sent.get(s)!),
    podScheduled: names.map((s) => podScheduled.get(s)! - sent.get(s)!),
    podReady: names.map((s) => pods.get(s)! - sent.get(s)!),
    sessionReady: names.map((s) => ready.get(s)! - sent.get(s)!),
    overhead: names.map((s) => ready.get(s)! - pods.get(s)!),
    seconds,
    createSeconds: (lastCreated - (firstCreated ?? started)) / 1000,
    readyTimes: names.map((s) => (ready.get(s)! - started) / 1000).sort((a, b) => a - b),
  };
}

/** W1: `n` sessions created at once, at most `concurrency` creations in flight. */
export function burst(kc: KubeConfig, ns: string, n: number, concurrency: number, progress: Progress, at: Placement = {}): Promise<SessionRun> {
  return measure(kc, ns, n, progress, (create) => pool(n, concurrency, create), at);
}

/** Sessions W2 creates at `rate` per second for `seconds`. */
export const arrivalCount = (rate: number, seconds: number) => Math.max(1, Math.round(rate * seconds));

/** W2: sessions created at `rate` per second for `seconds` (session i sent at i/rate s, whether or not earlier creations returned). */
export function arrivals(kc: KubeConfig, ns: string, rate: number, seconds: number, progress: Progress): Promise<SessionRun> {
  const n = arrivalCount(rate, seconds);
  return measure(kc, ns, n, progress, async (create) => {
    const t0 = performance.now();
    const inFlight: Array<Promise<void>> = [];
    for (let i = 0; i < n; i++) {
      const wait = t0 + (i * 1000) / rate - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inFlight.push(create(i));
    }
    await Promise.all(inFlight);
  });
}

/** Deletes every session in `ns` and waits until they and their pods are gone. */
export async function removeSessions(kc: KubeConfig, ns: string): Promise<void> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  // Deleting thousands of sessions at once can outlast a connection of a busy apiserver: ask again.
  for (let attempt = 1; ; attempt++) {
    try {
      await custom.deleteCollectionNamespacedCustomObject({ ...G, namespace: ns });
      break;
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
  await waitFor(`sessions in ${ns} gone`, async () => {
    const list = (await custom.listNamespacedCustomObject({ ...G, namespace: ns })) as { items: unknown[] };
    const pods = await core.listNamespacedPod({ namespace: ns });
    return list.items.length === 0 && pods.items.length === 0;
  }, 3_600_000, '', 1000);
}
