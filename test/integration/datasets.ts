// SPDX-License-Identifier: Apache-2.0
/** Helpers to create DatasetMounts as an admin would. */
import type { DatasetMount, DatasetMountSpec } from '../../src/api/v1alpha1/dataset-mount.ts';
import { custom } from './helpers.ts';
import { waitFor } from './helpers.ts';

const G = { group: 'panalysis.io', version: 'v1alpha1', plural: 'datasetmounts' };

export async function createDataset(namespace: string, name: string, spec: DatasetMountSpec): Promise<void> {
  await custom().createNamespacedCustomObject({ ...G, namespace, body: { apiVersion: 'panalysis.io/v1alpha1', kind: 'DatasetMount', metadata: { name }, spec } });
}

export async function getDataset(namespace: string, name: string): Promise<DatasetMount> {
  return (await custom().getNamespacedCustomObject({ ...G, namespace, name })) as DatasetMount;
}

export async function deleteDataset(namespace: string, name: string): Promise<void> {
  await custom().deleteNamespacedCustomObject({ ...G, namespace, name });
}

export async function waitDataset(namespace: string, name: string, what: string, check: (d: DatasetMount) => boolean): Promise<DatasetMount> {
  let last: DatasetMount | undefined;
  await waitFor(`dataset ${namespace}/${name}: ${what}`, async () => {
    last = await getDataset(namespace, name);
    return check(last);
  }, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}; last status: ${JSON.stringify(last?.status)}`, { cause: err });
  });
  return last!;
}

export const readyIs = (status: string) => (d: DatasetMount) => d.status?.conditions?.find((c) => c.type === 'Ready')?.status === status;

/** Merge-patches the spec of a DatasetMount, as an admin would. */
export async function patchDataset(namespace: string, name: string, spec: Partial<DatasetMountSpec>): Promise<void> {
  const d = await getDataset(namespace, name);
  d.spec = { ...d.spec, ...spec };
  await custom().replaceNamespacedCustomObject({ ...G, namespace, name, body: d });
}
