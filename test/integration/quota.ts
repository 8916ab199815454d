// SPDX-License-Identifier: Apache-2.0
/** Helpers for quota tests: quotas as an admin writes them, and a watch that counts session pods at every event. */
import { Watch } from '@kubernetes/client-node';
import type { ResourceQuota, ResourceQuotaSpec } from '../../src/api/v1alpha1/resource-quota.ts';
import { custom, kubeConfig } from './helpers.ts';

const G = { group: 'panalysis.io', version: 'v1alpha1', plural: 'resourcequotas' };

export async function createQuota(namespace: string, name: string, spec: ResourceQuotaSpec): Promise<ResourceQuota> {
  return (await custom().createNamespacedCustomObject({ ...G, namespace, body: { apiVersion: 'panalysis.io/v1alpha1', kind: 'ResourceQuota', metadata: { name }, spec } })) as ResourceQuota;
}

export async function getQuota(namespace: string, name: string): Promise<ResourceQuota> {
  return (await custom().getNamespacedCustomObject({ ...G, namespace, name })) as ResourceQuota;
}

export async function listQuotas(namespace: string): Promise<ResourceQuota[]> {
  return ((await custom().listNamespacedCustomObject({ ...G, namespace })) as { items: ResourceQuota[] }).items;
}

/**
 * Replaces the quota's spec as an admin's `kubectl edit` does: read, change, write with its resourceVersion, and
 * read again when the operator wrote the status in between (409).
 */
export async function editQuota(namespace: string, name: string, change: (spec: ResourceQuotaSpec) => ResourceQuotaSpec): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const q = await getQuota(namespace, name);
    try {
      await custom().replaceNamespacedCustomObject({ ...G, namespace, name, body: { ...q, spec: change(q.spec) } });
      return;
    } catch (err) {
      if ((err as { code?: number }).code !== 409 || attempt >= 5) throw err;
    }
  }
}

/**
 * Watches the session pods of a namespace and keeps the most that existed at once (from
 * every ADDED and DELETED event, not from samples), and the same for the quota's ledger.
 */
export async function watchPeaks(namespace: string): Promise<{ pods: () => number; peakPods: () => number; peakReserved: () => number; stop: () => void }> {
  const pods = new Set<string>();
  let peakPods = 0;
  let peakReserved = 0;
  const watch = new Watch(kubeConfig());
  const podWatch = await watch.watch(`/api/v1/namespaces/${namespace}/pods`, { labelSelector: 'app.kubernetes.io/name=panalysis-session' }, (type: string, obj: { metadata: { name: string } }) => {
    if (type === 'ADDED') pods.add(obj.metadata.name);
    if (type === 'DELETED') pods.delete(obj.metadata.name);
    peakPods = Math.max(peakPods, pods.size);
  }, () => undefined);
  const quotaWatch = await watch.watch(`/apis/panalysis.io/v1alpha1/namespaces/${namespace}/resourcequotas`, {}, (_type: string, obj: ResourceQuota) => {
    peakReserved = Math.max(peakReserved, obj.status?.reservations?.length ?? 0);
  }, () => undefined);
  return { pods: () => pods.size, peakPods: () => peakPods, peakReserved: () => peakReserved, stop: () => { podWatch.abort(); quotaWatch.abort(); } };
}
