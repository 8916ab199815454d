// SPDX-License-Identifier: Apache-2.0
/**
 * Workload Q1, quota contention across proposals: P proposal namespaces, each with a
 * ResourceQuota (panalysis.io) `hard: {sessions: 3}` (onExceeded Queue); N sessions are
 * created at once, spread round-robin over them; every session is deleted as soon as it is
 * Ready, so the waiting ones get in. P is 20 at the default N=100 (5 sessions per proposal,
 * 2 of them wait) and N/5 below that, so a smaller N keeps the same contention.
 *
 * Measured from watches (client clock): creation → reservation in the quota's ledger
 * (admission), → QuotaAdmitted=True on the session, → session Ready; which sessions were
 * ever listed in a quota's status.waiting (queued); the most reservations
 * any quota held and the most session pods any namespace had at once (every event, not
 * samples); admissions out of creation order. From /metrics: operator writes by verb,
 * reconcile errors by reason, and the API server's 409 answers on the quotas.
 *
 * All namespaces carry `panalysis.io/proposal: "20231234"` because the demo configuration's
 * static directory knows that proposal (alice, bob, dave are members); quotas are per
 * namespace, so each namespace is its own contention domain all the same.
 */
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { keepWatching } from './keep-watch.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import { LABELS } from '../src/api/v1alpha1/group.ts';
import type { ResourceQuota } from '../src/api/v1alpha1/resource-quota.ts';
import { waitFor } from '../src/cluster/wait.ts';
import { apiServerMetrics, delta, operatorMetrics, samples, sumBy } from './metrics-text.ts';
import { quantile, summarise } from './stats.ts';
import type { Summary } from './stats.ts';
import type { Progress } from './progress.ts';

export const QUOTA_LIMIT = 3;
const PER_PROPOSAL = 5;
const MAX_PROPOSALS = 20;
const PROPOSAL = '20231234';
const USERS = ['alice', 'bob', 'dave'];
const G = { group: 'panalysis.io', version: 'v1alpha1' };

/** Proposal namespaces used for `n` sessions: 20 at n ≥ 100, else n/5 (at least 1). */
export function proposalsFor(n: number): number {
  return Math.min(MAX_PROPOSALS, Math.max(1, Math.floor(n / PER_PROPOSAL)));
}

export interface QuotaWorkloadOptions {
  kc: KubeConfig;
  /** Metrics port of the running operator. */
  operatorPort: number;
  n: number;
  /** Namespace prefix, unique per run. */
  prefix: string;
  /** Session creations in flight at once. */
  concurrency: number;
  /** Told of sessions created and Ready as they happen; done once all are released. */
  progress?: Progress;
}

interface Track { ns: string; name: string; sent: number; created?: string; waited: boolean; admitted?: number; condition?: number; ready?: number; deleting: boolean; gone: boolean }

type SummaryP95 = Summary & { p95: number };

/** {@link summarise} plus p95. */
export function summariseP95(xs: readonly number[]): SummaryP95 {
  const sorted = [...xs].sort((a, b) => a - b);
  return { ...summarise(sorted), p95: Math.round(quantile(sorted, 0.95)) };
}

export interface QuotaWorkloadResult {
  what: string;
  proposals: number;
  sessionsPerProposal: number;
  limit: number;
  namespaceProposalLabel: string;
  admissions: number;
  queued: number;
  secondsToLastAdmission: number;
  secondsToAllReleased: number;
  admissionsPerSecond: number;
  admissionWaitMs: SummaryP95;
  admissionWaitQueuedMs: SummaryP95;
  createToQuotaAdmittedConditionMs: SummaryP95;
  admissionToQuotaAdmittedConditionMs: SummaryP95;
  createToSessionReadyMs: SummaryP95;
  admissionToSessionReadyMs: SummaryP95;
  maxReservationsPerQuota: number;
  maxSessionPodsPerNamespace: number;
  admissionOrderInversions: number;
  quotaObjectUpdatesSeen: number;
  writesPerSession: number;
  writesByVerb: Record<string, number>;
  reconcileErrors: Record<string, number>;
  apiServer409OnQuotas: Record<string, number>;
}

/** Samples for the chart beside the figures. */
export interface QuotaWorkloadRun { result: QuotaWorkloadResult; admissionWait: number[]; createToReady: number[] }

const isTrue = (o: { status?: { conditions?: Array<{ type: string; status: string }> } }, type: string) =>
  o.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;

async function scrape(kc: KubeConfig, port: number): Promise<{ writes: Record<string, number>; errors: Record<string, number>; conflicts: Record<string, number> }> {
  const op = await operatorMetrics(port);
  const api = await apiServerMetrics(kc);
  const errors: Record<string, number> = {};
  for (const s of samples(op, 'controller_runtime_reconcile_errors_total')) errors[`${s.labels.controller}/${s.labels.reason}`] = s.value;
  const conflicts: Record<string, number> = {};
  for (const s of samples(api, 'apiserver_request_total')) {
    if (s.labels.group !== G.group || s.labels.resource !== 'resourcequotas' || s.labels.code !== '409') continue;
    const key = `${s.labels.verb} ${s.labels.subresource || 'object'}`;
    conflicts[key] = (conflicts[key] ?? 0) + s.value;
  }
  return { writes: sumBy(op, 'controller_runtime_kube_writes_total', 'verb'), errors, conflicts };
}

/** Runs Q1 against the cluster of `o.kc` and the operator on `o.operatorPort`. */
export async function quotaWorkload(o: QuotaWorkloadOptions): Promise<QuotaWorkloadRun> {
  const core = o.kc.makeApiClient(CoreV1Api);
  const custom = o.kc.makeApiClient(CustomObjectsApi);
  const p = proposalsFor(o.n);
  const namespaces = Array.from({ length: p }, (_, i) => `${o.prefix}-${String(i).padStart(2, '0')}`);
  const mine = new Set(namespaces);
  await Promise.all(namespaces.map(async (ns) => {
    await core.createNamespace({ body: { metadata: { name: ns, labels: { [LABELS.proposal]: PROPOSAL } } } });
    await waitFor(`namespace ${ns}`, async () => Boolean(await core.readNamespacedServiceAccount({ name: 'default', namespace: ns })), 30_000);
    const body = { apiVersion: 'panalysis.io/v1alpha1', kind: 'ResourceQuota', metadata: { name: 'policy' }, spec: { hard: { sessions: QUOTA_LIMIT }, onExceeded: 'Queue' } };
    await custom.createNamespacedCustomObject({ ...G, plural: 'resourcequotas', namespace: ns, body });
  }));
  // Sessions created before the operator has seen their quota would not be gated by it.
  await waitFor('every quota observed by the operator', async () => {
    const quotas = await Promise.all(namespaces.map((ns) => custom.getNamespacedCustomObject({ ...G, plural: 'resourcequotas', namespace: ns, name: 'policy' }) as Promise<ResourceQuota>));
    return quotas.every((q) => (q.status?.conditions?.length ?? 0) > 0);
  }, 60_000);

  const track = new Map<string, Track>();
  const ledger = new Map<string, number>();
  const pods = new Map<string, Set<string>>();
  let maxReserved = 0;
  let maxPods = 0;
  let quotaUpdates = 0;
  let created = 0;
  let readyCount = 0;
  const deleteErrors: unknown[] = [];
  const quotaWatch = await keepWatching(o.kc, `/apis/${G.group}/${G.version}/resourcequotas`, {}, (_type: string, q: ResourceQuota) => {
    const ns = q.metadata.namespace!;
    if (!mine.has(ns)) return;
    const now = performance.now();
    quotaUpdates++;
    const reservations = q.status?.reservations ?? [];
    ledger.set(ns, reservations.length);
    maxReserved = Math.max(maxReserved, reservations.length);
    for (const r of reservations) {
      const t = track.get(`${ns}/${r.session}`);
      if (t && t.admitted === undefined) t.admitted = now;
    }
    for (const w of q.status?.waiting ?? []) {
      const t = track.get(`${ns}/${w.session}`);
      if (t) t.waited = true;
    }
  });
  type Session = { metadata: { name: string; namespace: string; creationTimestamp?: string }; status?: { conditions?: Array<{ type: string; status: string }> } };
  const sessionWatch = await keepWatching(o.kc, `/apis/${G.group}/${G.version}/analysissessions`, {}, (type: string, s: Session) => {
    const t = mine.has(s.metadata.namespace) ? track.get(`${s.metadata.namespace}/${s.metadata.name}`) : undefined;
    if (!t) return;
    const now = performance.now();
    t.created ??= s.metadata.creationTimestamp === undefined ? undefined : String(s.metadata.creationTimestamp);
    if (t.condition === undefined && isTrue(s, 'QuotaAdmitted')) t.condition = now;
    if (t.ready === undefined && isTrue(s, 'Ready')) {
      t.ready = now;
      o.progress?.set(created, ++readyCount);
    }
    if (type === 'DELETED') t.gone = true;
    if (t.ready !== undefined && !t.deleting) {
      t.deleting = true;
      custom.deleteNamespacedCustomObject({ ...G, plural: 'analysissessions', namespace: t.ns, name: t.name }).catch((err: unknown) => deleteErrors.push(err));
    }
  });
  const podWatch = await keepWatching(o.kc, '/api/v1/pods', { labelSelector: 'app.kubernetes.io/name=panalysis-session' }, (type: string, pod: { metadata: { name: string; namespace: string } }) => {
    const ns = pod.metadata.namespace;
    if (!mine.has(ns)) return;
    const set = pods.get(ns) ?? new Set<string>();
    pods.set(ns, set);
    if (type === 'DELETED') set.delete(pod.metadata.name);
    else set.add(pod.metadata.name);
    maxPods = Math.max(maxPods, set.size);
  });

  const before = await scrape(o.kc, o.operatorPort);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: o.concurrency }, async () => {
    while (next < o.n) {
      const i = next++;
      const ns = namespaces[i % p]!;
      const name = `s${String(i).padStart(4, '0')}`;
      track.set(`${ns}/${name}`, { ns, name, sent: performance.now(), waited: false, deleting: false, gone: false });
      const body = { apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', metadata: { name }, spec: { user: USERS[i % USERS.length], type: 'jupyter', profile: 'jupyter-scipy', resources: { cpu: '100m', memory: '256Mi' } } };
      await custom.createNamespacedCustomObject({ ...G, plural: 'analysissessions', namespace: ns, body });
      o.progress?.set(++created, readyCount);
    }
  }));
  const all = () => [...track.values()];
  // A watch reopened after a 410 starts from the objects that exist, so a deletion in the gap sends no DELETED:
  // every few seconds the sessions being deleted are also looked up, and one that no longer exists is gone.
  let lookedUp = performance.now();
  const lookUpDeleted = async (): Promise<void> => {
    if (performance.now() - lookedUp < 5_000) return;
    lookedUp = performance.now();
    for (const ns of namespaces) {
      const list = await custom.listNamespacedCustomObject({ ...G, plural: 'analysissessions', namespace: ns }) as { items: Array<{ metadata: { name: string } }> };
      const present = new Set(list.items.map((s) => s.metadata.name));
      for (const t of all()) if (t.ns === ns && t.deleting && !present.has(t.name)) t.gone = true;
    }
  };
  try {
    await waitFor(`all ${o.n} Q1 sessions admitted, Ready and deleted`, async () => {
      if (deleteErrors.length > 0) throw new Error(`deleting a session failed: ${String(deleteErrors[0])}`);
      if (all().every((t) => t.gone)) return true;
      await lookUpDeleted();
      return all().every((t) => t.gone);
    }, 900_000, '', 100);
    await waitFor('every Q1 quota ledger empty', async () => namespaces.every((ns) => ledger.get(ns) === 0), 120_000, '', 100);
  } finally {
    quotaWatch.abort();
    sessionWatch.abort();
    podWatch.abort();
    o.progress?.done();
  }
  const drained = performance.now();
  const after = await scrape(o.kc, o.operatorPort);
  const tracks = all();
  const lastAdmission = Math.max(...tracks.map((t) => t.admitted!));
  const writes = delta(before.writes, after.writes);
  const totalWrites = Object.values(writes).reduce((a, b) => a + b, 0);
  const admissionWait = tracks.map((t) => t.admitted! - t.sent);
  const createToReady = tracks.map((t) => t.ready! - t.sent);
  const result: QuotaWorkloadResult = {
    what: `${o.n} sessions created at once over ${p} proposal namespaces, each with a quota hard.sessions ${QUOTA_LIMIT} (onExceeded Queue); every session is deleted as soon as it is Ready, so the waiting ones get in`,
    proposals: p,
    sessionsPerProposal: Math.round((o.n / p) * 10) / 10,
    limit: QUOTA_LIMIT,
    namespaceProposalLabel: `all namespaces ${LABELS.proposal}: "${PROPOSAL}" (the demo directory's proposal; quotas are per namespace)`,
    admissions: tracks.filter((t) => t.admitted !== undefined).length,
    queued: tracks.filter((t) => t.waited).length,
    secondsToLastAdmission: round1((lastAdmission - t0) / 1000),
    secondsToAllReleased: round1((drained - t0) / 1000),
    admissionsPerSecond: Math.round((o.n / ((lastAdmission - t0) / 1000)) * 100) / 100,
    admissionWaitMs: summariseP95(admissionWait),
    admissionWaitQueuedMs: summariseP95(tracks.filter((t) => t.waited).map((t) => t.admitted! - t.sent)),
    createToQuotaAdmittedConditionMs: summariseP95(tracks.filter((t) => t.condition !== undefined).map((t) => t.condition! - t.sent)),
    admissionToQuotaAdmittedConditionMs: summariseP95(tracks.filter((t) => t.condition !== undefined).map((t) => t.condition! - t.admitted!)),
    createToSessionReadyMs: summariseP95(createToReady),
    admissionToSessionReadyMs: summariseP95(tracks.map((t) => t.ready! - t.admitted!)),
    maxReservationsPerQuota: maxReserved,
    maxSessionPodsPerNamespace: maxPods,
    admissionOrderInversions: inversions(tracks),
    quotaObjectUpdatesSeen: quotaUpdates,
    writesPerSession: round1(totalWrites / o.n),
    writesByVerb: writes,
    reconcileErrors: delta(before.errors, after.errors),
    apiServer409OnQuotas: delta(before.conflicts, after.conflicts),
  };
  return { result, admissionWait, createToReady };
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * Pairs of sessions of one namespace admitted against the order the quota promises
 * (creation time, then name): the later one's reservation was seen strictly first.
 */
export function inversions(tracks: ReadonlyArray<Pick<Track, 'ns' | 'name' | 'created' | 'admitted'>>): number {
  const byNs = new Map<string, Array<(typeof tracks)[number]>>();
  for (const t of tracks) byNs.set(t.ns, [...(byNs.get(t.ns) ?? []), t]);
  let count = 0;
  for (const list of byNs.values()) {
    const ordered = [...list].sort((a, b) => Date.parse(a.created ?? '') - Date.parse(b.created ?? '') || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (let i = 0; i < ordered.length; i++) {
      for (let j = i + 1; j < ordered.length; j++) if (ordered[j]!.admitted! < ordered[i]!.admitted!) count++;
    }
  }
  return count;
}

/** One paragraph for the console and the issue. */
export function describeQuotaWorkload(r: QuotaWorkloadResult, n: number): string {
  const w = r.admissionWaitMs;
  const q = r.admissionWaitQueuedMs;
  const conflicts = Object.values(r.apiServer409OnQuotas).reduce((a, b) => a + b, 0);
  const errors = Object.entries(r.reconcileErrors).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return `Q1 (quota contention): ${n} sessions over ${r.proposals} proposal namespaces with hard.sessions ${r.limit}; ${r.queued} waited in a quota's queue (status.waiting). `
    + `All ${r.admissions} were admitted within ${r.secondsToLastAdmission} s (${r.admissionsPerSecond} admissions/s, each session deleted once Ready). `
    + `Admission wait (create → reservation in the ledger) p50 ${w.p50} ms, p95 ${w.p95} ms, p99 ${w.p99} ms; for the queued ones p50 ${q.p50} ms, p95 ${q.p95} ms, p99 ${q.p99} ms. `
    + `Create → session Ready p50 ${r.createToSessionReadyMs.p50} ms, p95 ${r.createToSessionReadyMs.p95} ms. `
    + `At most ${r.maxReservationsPerQuota} reservations in any quota and ${r.maxSessionPodsPerNamespace} session pods in any namespace at once (limit ${r.limit}); ${r.admissionOrderInversions} admissions out of creation order. `
    + `${r.writesPerSession} operator writes per session; ${conflicts} conflicts (409) on quota writes at the API server; reconcile errors: ${errors}.`;
}
