// SPDX-License-Identifier: Apache-2.0
/**
 * The fake nodes of a local cluster, managed by kwok: CPU nodes, full-GPU nodes and a
 * MIG node, shaped like a facility's GPU pool (capacity, product labels, a taint).
 */
import type { V1Node } from '@kubernetes/client-node';

/** Annotation kwok selects its nodes by. */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
/** The taint on GPU nodes; GPU sessions tolerate it. */
export const GPU_TAINT = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' } as const;

/** How many nodes of each sort. */
export interface NodeLayout {
  cpuNodes: number;
  gpuNodes: number;
  migNodes: number;
}

export const DEFAULT_NODE_LAYOUT: NodeLayout = { cpuNodes: 3, gpuNodes: 2, migNodes: 1 };

function node(name: string, labels: Record<string, string>, capacity: Record<string, string>, gpu: boolean): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok', ...labels },
    },
    spec: gpu ? { taints: [{ ...GPU_TAINT }] } : {},
    status: {
      allocatable: capacity,
      capacity,
      nodeInfo: {
        architecture: 'amd64', bootID: '', containerRuntimeVersion: 'kwok', kernelVersion: '', kubeProxyVersion: 'fake',
        kubeletVersion: 'fake', machineID: '', operatingSystem: 'linux', osImage: '', systemUUID: '',
      },
      phase: 'Running',
    },
  };
}

/** Builds the Node objects for `layout` (pure). */
export function buildNodes(layout: NodeLayout = DEFAULT_NODE_LAYOUT): V1Node[] {
  const base = { cpu: '32', memory: '256Gi', pods: '110', 'ephemeral-storage': '1Ti' };
  const nodes: V1Node[] = [];
  for (let i = 0; i < layout.cpuNodes; i++) nodes.push(node(`kwok-cpu-${i}`, { 'panalysis.io/pool': 'cpu' }, base, false));
  for (let i = 0; i < layout.gpuNodes; i++) {
    nodes.push(
      node(
        `kwok-gpu-a100-${i}`,
        { 'panalysis.io/pool': 'gpu', 'nvidia.com/gpu.present': 'true', 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB', 'nvidia.com/gpu.count': '4', 'nvidia.com/mig.strategy': 'none' },
        { ...base, cpu: '64', memory: '512Gi', 'nvidia.com/gpu': '4' },
        true,
      ),
    );
  }
  for (let i = 0; i < layout.migNodes; i++) {
    nodes.push(
      node(
        `kwok-gpu-mig-${i}`,
        { 'panalysis.io/pool': 'gpu', 'nvidia.com/gpu.present': 'true', 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB-MIG-1g.10gb', 'nvidia.com/mig.strategy': 'mixed' },
        { ...base, cpu: '64', memory: '512Gi', 'nvidia.com/mig-1g.10gb': '14' },
        true,
      ),
    );
  }
  return nodes;
}
