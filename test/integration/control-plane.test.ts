// SPDX-License-Identifier: Apache-2.0
/**
 * The local control plane behaves like a cluster: the real kube-scheduler places Pods
 * on kwok nodes (GPU pods on GPU nodes), kwok makes them Ready, and the garbage
 * collector of kube-controller-manager removes dependents of a deleted owner.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { core, freshNamespace, waitFor } from './helpers.ts';
import { deleteFreshNamespaces } from './cleanup.ts';
import { isGone } from './gone.ts';

let ns: string;
beforeAll(async () => {
  ns = await freshNamespace('cp');
});
// The GPU pod holds a GPU of the shared nodes: left behind, a later file's GPU session would wait.
afterAll(async () => {
  await deleteFreshNamespaces();
});

function pod(name: string, extra: Partial<V1Pod['spec']> = {}, resources: Record<string, string> = {}): V1Pod {
  return {
    metadata: { name },
    spec: {
      containers: [{ name: 'main', image: 'registry.invalid/pause:3.10', resources: { requests: { cpu: '100m', ...resources }, limits: resources } }],
      ...extra,
    },
  };
}

async function readyPod(name: string): Promise<V1Pod> {
  let live: V1Pod | undefined;
  await waitFor(`pod ${name} to be Ready`, async () => {
    live = await core().readNamespacedPod({ name, namespace: ns });
    return Boolean(live.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  }, 60_000);
  return live!;
}

describe('local control plane', () => {
  it('schedules a plain Pod onto a kwok CPU node and it becomes Ready', async () => {
    await core().createNamespacedPod({ namespace: ns, body: pod('plain') });
    const live = await readyPod('plain');
    expect(live.spec?.nodeName).toMatch(/^kwok-cpu-/);
    expect(live.status?.phase).toBe('Running');
    expect(live.status?.podIP).toMatch(/^10\.244\./);
  });

  it('puts a Pod requesting nvidia.com/gpu with the toleration on a GPU node', async () => {
    const tolerations = [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }];
    await core().createNamespacedPod({ namespace: ns, body: pod('gpu', { tolerations }, { 'nvidia.com/gpu': '1' }) });
    const live = await readyPod('gpu');
    expect(live.spec?.nodeName).toMatch(/^kwok-gpu-a100-/);
    const node = await core().readNode({ name: live.spec!.nodeName! });
    expect(node.metadata?.labels?.['nvidia.com/gpu.product']).toBe('NVIDIA-A100-SXM4-80GB');
  });

  it('keeps a GPU Pod without the toleration Pending with the scheduler reason', async () => {
    await core().createNamespacedPod({ namespace: ns, body: pod('gpu-no-toleration', {}, { 'nvidia.com/gpu': '1' }) });
    let message = '';
    await waitFor('the scheduler to report why', async () => {
      const live = await core().readNamespacedPod({ name: 'gpu-no-toleration', namespace: ns });
      message = live.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable')?.message ?? '';
      return message !== '';
    }, 30_000);
    expect(message).toMatch(/untolerated taint|Insufficient nvidia.com\/gpu/);
  });

  it('garbage-collects dependents of a deleted owner', async () => {
    const owner = await core().createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'owner' } } });
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid!, controller: true, blockOwnerDeletion: true };
    await core().createNamespacedPod({ namespace: ns, body: { ...pod('dependent'), metadata: { name: 'dependent', ownerReferences: [ref] } } });
    await readyPod('dependent');
    await core().deleteNamespacedConfigMap({ name: 'owner', namespace: ns });
    await waitFor('the dependent pod to be deleted', () => isGone(() => core().readNamespacedPod({ name: 'dependent', namespace: ns })), 60_000);
  });
});
