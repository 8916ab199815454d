// SPDX-License-Identifier: Apache-2.0
/**
 * The DatasetMount controller: turns each DatasetMount into a pre-bound static
 * PersistentVolume and claim, and removes the volume object (never the data) when the
 * DatasetMount is deleted (a finalizer: cluster-scoped volumes cannot be owned by a
 * namespaced object).
 */
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { API_VERSION } from '../../api/v1alpha1/group.ts';
import type { DatasetMount } from '../../api/v1alpha1/dataset-mount.ts';
import type { OperatorConfig } from '../../config/schema.ts';
import { DATASET_NAMESPACE_LABEL, datasetClaimFor, datasetVolumeName } from '../../desired/dataset-volume.ts';
import { ownerKeys } from '../../runtime/controller.ts';
import type { Controller, ReconcileRequest } from '../../runtime/controller.ts';
import { done, requeueAfter } from '../../runtime/errors.ts';
import type { ReconcileResult } from '../../runtime/errors.ts';
import { withFinalizer } from '../../runtime/finalizer.ts';
import type { Manager } from '../../runtime/manager.ts';
import type { KubeObject, ResourceType } from '../../runtime/resource.ts';
import { decideDatasetMount } from './decide.ts';

export const DATASET_FIELD_MANAGER = 'panalysis-dataset-controller';
export const DATASET_FINALIZER = 'panalysis.io/dataset-volume';
export const DATASET_RESOURCE: ResourceType = { apiVersion: API_VERSION, kind: 'DatasetMount', plural: 'datasetmounts', namespaced: true };
const PVC: ResourceType = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', namespaced: true };
const PV: ResourceType = { apiVersion: 'v1', kind: 'PersistentVolume', plural: 'persistentvolumes', namespaced: false };
const SELECTOR = 'app.kubernetes.io/managed-by=panalysis,app.kubernetes.io/name=panalysis-dataset';

/** Adds the DatasetMount controller to `manager`. */
export function addDatasetController(manager: Manager, options: { config: () => OperatorConfig; now?: () => number }): Controller<DatasetMount> {
  const datasets = manager.source<DatasetMount>({ resource: DATASET_RESOURCE });
  const now = options.now ?? Date.now;
  const events = manager.eventRecorder('panalysis.io/dataset-controller');
  const reconcile = async (req: ReconcileRequest): Promise<ReconcileResult> => {
    const dm = datasets.store.get(req.namespace!, req.name) as DatasetMount | undefined;
    if (!dm) return done();
    return withFinalizer(manager.kube, DATASET_FINALIZER, dm as DatasetMount & KubeObject, {
      apply: async (d) => {
        const claim = manager.lookup({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: d.metadata.namespace, name: datasetClaimFor(d) }) as V1PersistentVolumeClaim | undefined;
        const plan = decideDatasetMount(d, { claim }, options.config().datasets, now());
        for (const obj of plan.apply) await manager.kube.apply(obj, { fieldManager: DATASET_FIELD_MANAGER });
        const ref = { apiVersion: API_VERSION, kind: 'DatasetMount', namespace: d.metadata.namespace, name: d.metadata.name! };
        const outcome = await manager.kube.applyStatus(ref, plan.status, { fieldManager: DATASET_FIELD_MANAGER });
        const before = d.status?.conditions?.find((c) => c.type === 'Ready');
        const after = plan.status.conditions?.find((c) => c.type === 'Ready');
        if (outcome.written && after && (before?.reason !== after.reason || before?.status !== after.status)) {
          events.record({ regarding: d as KubeObject, type: after.status === 'True' ? 'Normal' : 'Warning', reason: after.reason, action: 'Reconcile', note: after.message });
        }
        return plan.requeueAfterMs ? requeueAfter(plan.requeueAfterMs) : done();
      },
      cleanup: async (d) => {
        await manager.kube.delete({ apiVersion: 'v1', kind: 'PersistentVolume', name: datasetVolumeName(d.metadata.namespace!, d.metadata.name!) });
        return done();
      },
    });
  };
  return manager.addController<DatasetMount>({
    name: 'datasetmount',
    for: { resource: DATASET_RESOURCE },
    watches: [
      { spec: { resource: PV, labelSelector: SELECTOR }, map: (pv) => [`${pv.metadata?.labels?.[DATASET_NAMESPACE_LABEL]}/${pv.metadata?.labels?.['panalysis.io/dataset']}`] },
      // One watch on all claims serves both: the claims we own, and the admin's claims of `pvc` sources.
      { spec: { resource: PVC }, map: (pvc) => [...ownerKeys(DATASET_RESOURCE, pvc), ...datasetsUsingClaim(datasets.store.list(pvc.metadata?.namespace) as DatasetMount[], pvc.metadata?.name)] },
    ],
    reconcile,
  }) as Controller<DatasetMount>;
}

function datasetsUsingClaim(list: DatasetMount[], claim: string | undefined): string[] {
  return list.filter((d) => d.spec?.source?.pvc?.claimName === claim).map((d) => `${d.metadata.namespace}/${d.metadata.name}`);
}
