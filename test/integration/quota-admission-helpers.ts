// SPDX-License-Identifier: Apache-2.0
/**
 * Helpers for the quota admission tests: sessions as a portal lists them, and a watch on
 * a namespace's pods and quota ledger that keeps, from every event (not from samples), the
 * most pods, GPU pods, reservations and reserved GPUs that existed at once, the order in
 * which runs were admitted and every session that ever waited in the queue.
 */
import { Watch } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import type { AnalysisSession, AnalysisSessionSpec } from '../../src/api/v1alpha1/analysis-session.ts';
import type { ResourceQuota } from '../../src/api/v1alpha1/resource-quota.ts';
import type { UsageRecordSpec } from '../../src/api/v1alpha1/usage-record.ts';
import { custom, kubeConfig } from './helpers.ts';

const GROUP = { group: 'panalysis.io', version: 'v1alpha1' };

/** A JupyterLab session of `user`, with `gpus` GPUs of flavour a100 when given. */
export function jupyter(user: string, gpus?: number): AnalysisSessionSpec {
  return { user, type: 'jupyter', profile: 'jupyter-scipy', ...(gpus ? { resources: { gpu: { flavour: 'a100', count: gpus } } } : {}) };
}

/** `prefix-00`, `prefix-01`, …: names that sort in the order they are made. */
export const numbered = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);

export async function sessionsOf(ns: string): Promise<AnalysisSession[]> {
  return ((await custom().listNamespacedCustomObject({ ...GROUP, plural: 'analysissessions', namespace: ns })) as { items: AnalysisSession[] }).items;
}

export async function usageRecordsOf(ns: string): Promise<UsageRecordSpec[]> {
  return ((await custom().listNamespacedCustomObject({ ...GROUP, plural: 'usagerecords', namespace: ns })) as { items: Array<{ spec: UsageRecordSpec }> }).items.map((r) => r.spec);
}

/** The session's `QuotaAdmitted` condition. */
export const quotaCondition = (s: AnalysisSession) => s.status?.conditions?.find((c) => c.type === 'QuotaAdmitted');

/** Session names in the quota's queue order: creation time (to the second), then name. */
export function creationOrder(sessions: readonly AnalysisSession[]): string[] {
  const at = (s: AnalysisSession) => Date.parse(s.metadata.creationTimestamp ?? '');
  return [...sessions].sort((a, b) => at(a) - at(b) || (a.metadata.name! < b.metadata.name! ? -1 : 1)).map((s) => s.metadata.name!);
}

const gpusOf = (pod: V1Pod): number => (pod.spec?.containers ?? []).reduce((n, c) => n + Number(c.resources?.limits?.['nvidia.com/gpu'] ?? 0), 0);

export interface LedgerWatch {
  /** Most session pods that existed at once. */
  peakPods: () => number;
  /** Most session pods holding an nvidia.com/gpu that existed at once. */
  peakGpuPods: () => number;
  /** Most reservations the ledger held at once. */
  peakReserved: () => number;
  /** Most GPUs the ledger's reservations held at once. */
  peakGpusReserved: () => number;
  /** Session names in the order their runs were first seen in the ledger (one entry per run). */
  admissions: () => string[];
  /** Sessions that were ever listed as waiting. */
  everWaited: () => Set<string>;
  stop: () => void;
}

/** Watches the session pods and the quotas of `ns` (see the file comment). */
export async function watchLedger(ns: string): Promise<LedgerWatch> {
  const pods = new Map<string, number>();
  let peakPods = 0;
  let peakGpuPods = 0;
  let peakReserved = 0;
  let peakGpus = 0;
  const runs = new Set<string>();
  const admissions: string[] = [];
  const waited = new Set<string>();
  const watch = new Watch(kubeConfig());
  const podWatch = await watch.watch(`/api/v1/namespaces/${ns}/pods`, { labelSelector: 'app.kubernetes.io/name=panalysis-session' }, (type: string, pod: V1Pod) => {
    if (type === 'ADDED') pods.set(pod.metadata!.name!, gpusOf(pod));
    if (type === 'DELETED') pods.delete(pod.metadata!.name!);
    peakPods = Math.max(peakPods, pods.size);
    peakGpuPods = Math.max(peakGpuPods, [...pods.values()].filter((g) => g > 0).length);
  }, () => undefined);
  const quotaWatch = await watch.watch(`/apis/panalysis.io/v1alpha1/namespaces/${ns}/resourcequotas`, {}, (_type: string, q: ResourceQuota) => {
    const reservations = q.status?.reservations ?? [];
    peakReserved = Math.max(peakReserved, reservations.length);
    peakGpus = Math.max(peakGpus, reservations.reduce((n, r) => n + r.gpus, 0));
    for (const r of reservations) {
      const key = `${r.uid}/${r.run}`;
      if (!runs.has(key)) admissions.push(r.session);
      runs.add(key);
    }
    for (const w of q.status?.waiting ?? []) waited.add(w.session);
  }, () => undefined);
  return {
    peakPods: () => peakPods, peakGpuPods: () => peakGpuPods, peakReserved: () => peakReserved, peakGpusReserved: () => peakGpus,
    admissions: () => [...admissions], everWaited: () => new Set(waited),
    stop: () => { podWatch.abort(); quotaWatch.abort(); },
  };
}
