// SPDX-License-Identifier: Apache-2.0
/**
 * The API server's own addresses, from the `kubernetes` Service's EndpointSlices in
 * `default` (kept by the API server itself), so that session egress can except them.
 * Needs list/watch of EndpointSlices in `default` only (the chart's Role there).
 */
import type { Manager } from '../runtime/manager.ts';
import type { KubeObject, ResourceType } from '../runtime/resource.ts';

const ENDPOINT_SLICE: ResourceType = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', plural: 'endpointslices', namespaced: true };

interface EndpointSlice extends KubeObject {
  endpoints?: Array<{ addresses?: string[]; conditions?: { ready?: boolean } }>;
}

/** Every endpoint address of `slices` (ready or not: a draining API server is still one), sorted, without duplicates. */
export function addressesOf(slices: readonly EndpointSlice[]): string[] {
  return [...new Set(slices.flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses ?? [])))].sort();
}

/**
 * Watches the API server's EndpointSlices through `manager` (add before start); calls
 * `onChange` when the addresses change. Returns the current addresses.
 */
export function watchApiserverAddresses(manager: Manager, onChange: () => void): () => string[] {
  const source = manager.source<EndpointSlice>({ resource: ENDPOINT_SLICE, namespace: 'default', labelSelector: 'kubernetes.io/service-name=kubernetes' });
  let current: string[] = [];
  const read = (): string[] => addressesOf(source.store.list('default'));
  source.store.onChange(() => {
    const next = read();
    if (next.join(',') === current.join(',')) return;
    current = next;
    onChange();
  });
  return () => current;
}
