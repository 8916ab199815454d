// SPDX-License-Identifier: Apache-2.0
/**
 * The DatasetMount controller: turns each DatasetMount into a pre-bound static
 * PersistentVolume and claim, and removes the volume object (never the data) when the
 * DatasetMount is deleted (a finalizer: cluster-scoped volumes cannot be owned by a
 * namespaced object).
 */
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import { API_VERSION, LABELS } from '../../api/v1alpha1/group.ts';
import type { DatasetMount } from '../../api/v1alpha1/dataset-mount.ts';
import type { OperatorConfig } from '../../config/schema.ts';
import { DATASET_NAMESPACE_LABEL, datasetClaimFor, datasetVolumeName, isClaimOf, isOwnVolume, isVolumeOf, volumeNameFor } from '../../desired/dataset-volume.ts';
import { ownerKeys } from '../../runtime/controller.ts';
import type { Controller, ReconcileRequest } from '../../runtime/controller.ts';
import { done, requeueAfter } from '../../runtime/errors.ts';
import type { ReconcileResult } from '../../runtime/errors.ts';
import { withFinalizer } from '../../runtime/finalizer.ts';
import { statusCode } from '../../runtime/kube-http.ts';
import type { Manager } from '../../runtime/manager.ts';
import type { KubeObject, ResourceType } from '../../runtime/resource.ts';
import { MANAGED_SELECTOR } from '../analysis-session/resources.ts';
import { checkSource } from './check-source.ts';
import { decideDatasetMount, forbiddenStatus } from './decide.ts';
import type { DatasetFacts } from './decide.ts';

export const DATASET_FIELD_MANAGER = 'panalysis-dataset-controller';
export const DATASET_FINALIZER = 'panalysis.io/dataset-volume';
export const DATASET_RESOURCE: ResourceType = { apiVersion: API_VERSION, kind: 'DatasetMount', plural: 'datasetmounts', namespaced: true };
const PVC: ResourceType = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', namespaced: true };
const PV: ResourceType = { apiVersion: 'v1', kind: 'PersistentVolume', plural: 'persistentvolumes', namespaced: false };
const POD: ResourceType = { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };
const NAMESPACE: ResourceType = { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false };
const SELECTOR = 'app.kubernetes.io/managed-by=panalysis,app.kubernetes.io/name=panalysis-dataset';
/** A refused write is tried again this often (the RoleBinding that allows it is not watched). */
const FORBIDDEN_RETRY_MS = 30_000;

/** The controller, and a way to check every DatasetMount again at once (after a configuration change). */
export interface DatasetController {
  controller: Controller<DatasetMount>;
  requeueAll(): void;
}

/** Names of the pods in `pods` that mount `claim` and have not finished. */
export function podsMounting(pods: readonly V1Pod[], claim: string): string[] {
  return pods
    .filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed')
    .filter((p) => (p.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === claim))
    .map((p) => p.metadata!.name!)
    .sort();
}

/** Adds the DatasetMount controller to `manager`. */
export function addDatasetController(manager: Manager, options: { config: () => OperatorConfig; now?: () => number }): DatasetController {
  const datasets = manager.source<DatasetMount>({ resource: DATASET_RESOURCE });
  const namespaces = manager.source({ resource: NAMESPACE });
  const now = options.now ?? Date.now;
  const events = manager.eventRecorder('panalysis.io/dataset-controller');
  const inNamespace = (ns: string | undefined) => (datasets.store.list(ns) as DatasetMount[]).map((d) => `${d.metadata.namespace}/${d.metadata.name}`);

  /** Live facts; the PV is read live when the cache (our labels only) does not hold it, so a foreign PV is seen. */
  const gather = async (d: DatasetMount): Promise<DatasetFacts> => {
    if (!d.spec?.source || typeof d.spec.source !== 'object') return {};
    const ns = d.metadata.namespace!;
    const claim = manager.lookup({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns, name: datasetClaimFor(d) }) as V1PersistentVolumeClaim | undefined;
    const proposal = namespaces.store.get(undefined, ns)?.metadata?.labels?.[LABELS.proposal];
    const ref = { apiVersion: 'v1', kind: 'PersistentVolume', name: volumeNameFor(d, claim) };
    const volume = d.spec.source.pvc ? undefined : ((manager.lookup(ref) ?? (await manager.kube.get(ref))) as V1PersistentVolume | undefined);
    const facts: DatasetFacts = { claim, volume, ...(proposal !== undefined ? { proposal } : {}) };
    const refused = checkSource(d, options.config().datasets, proposal) !== undefined;
    if (refused && (isOwnVolume(volume, d, claim) || isClaimOf(claim, d))) {
      const pods = await manager.kube.list<V1Pod & KubeObject>({ apiVersion: 'v1', kind: 'Pod' }, { namespace: ns });
      facts.usedBy = podsMounting(pods, datasetClaimFor(d));
    }
    return facts;
  };

  const reconcile = async (req: ReconcileRequest): Promise<ReconcileResult> => {
    const dm = datasets.store.get(req.namespace!, req.name) as DatasetMount | undefined;
    if (!dm) return done();
    return withFinalizer(manager.kube, DATASET_FINALIZER, dm as DatasetMount & KubeObject, {
      apply: async (d) => {
        const plan = decideDatasetMount(d, await gather(d), options.config().datasets, now());
        let status = plan.status;
        let recheckMs = plan.requeueAfterMs;
        try {
          for (const obj of plan.apply) await manager.kube.apply(obj, { fieldManager: DATASET_FIELD_MANAGER });
          for (const { uid, ...ref } of plan.delete) await manager.kube.delete(ref, { preconditions: { uid } });
        } catch (err) {
          if (statusCode(err) !== 403) throw err;
          status = forbiddenStatus(d, plan.status, (err as Error).message, now());
          recheckMs = FORBIDDEN_RETRY_MS;
        }
        const ref = { apiVersion: API_VERSION, kind: 'DatasetMount', namespace: d.metadata.namespace, name: d.metadata.name! };
        const outcome = await manager.kube.applyStatus(ref, status, { fieldManager: DATASET_FIELD_MANAGER });
        const before = d.status?.conditions?.find((c) => c.type === 'Ready');
        const after = status.conditions?.find((c) => c.type === 'Ready');
        if (outcome.written && after && (before?.reason !== after.reason || before?.status !== after.status)) {
          events.record({ regarding: d as KubeObject, type: after.status === 'True' ? 'Normal' : 'Warning', reason: after.reason, action: 'Reconcile', note: after.message });
        }
        return recheckMs ? requeueAfter(recheckMs) : done();
      },
      // Only a volume that carries this DatasetMount's UID is deleted, and only that exact object (precondition).
      cleanup: async (d) => {
        const name = d.status?.persistentVolume ?? datasetVolumeName(d.metadata.namespace!, d.metadata.name!);
        const volume = await manager.kube.get({ apiVersion: 'v1', kind: 'PersistentVolume', name });
        if (volume && isVolumeOf(volume, d)) await manager.kube.delete({ apiVersion: 'v1', kind: 'PersistentVolume', name: volume.metadata!.name! }, { preconditions: { uid: volume.metadata!.uid! } });
        return done();
      },
    });
  };
  const controller = manager.addController<DatasetMount>({
    name: 'datasetmount',
    for: { resource: DATASET_RESOURCE },
    watches: [
      { spec: { resource: PV, labelSelector: SELECTOR }, map: (pv) => [`${pv.metadata?.labels?.[DATASET_NAMESPACE_LABEL]}/${pv.metadata?.labels?.[LABELS.dataset]}`] },
      // One watch on all claims serves both: the claims we own, and the admin's claims of `pvc` sources.
      { spec: { resource: PVC }, map: (pvc) => [...ownerKeys(DATASET_RESOURCE, pvc), ...datasetsUsingClaim(datasets.store.list(pvc.metadata?.namespace) as DatasetMount[], pvc.metadata?.name)] },
      // The proposal label decides which `{proposal}` roots apply.
      { spec: { resource: NAMESPACE }, map: (ns) => inNamespace(ns.metadata?.name) },
      // A session pod gone may free the volume of a refused DatasetMount (shared with the session controller's watch).
      { spec: { resource: POD, labelSelector: MANAGED_SELECTOR }, map: (pod) => datasetsMountedBy(datasets.store.list(pod.metadata?.namespace) as DatasetMount[], pod as V1Pod) },
    ],
    reconcile,
  }) as Controller<DatasetMount>;
  return { controller, requeueAll: () => datasets.store.keys().forEach((key) => controller.queue.add(key, 'resync')) };
}

function datasetsUsingClaim(list: DatasetMount[], claim: string | undefined): string[] {
  return list.filter((d) => d.spec?.source?.pvc?.claimName === claim).map((d) => `${d.metadata.namespace}/${d.metadata.name}`);
}

function datasetsMountedBy(list: DatasetMount[], pod: V1Pod): string[] {
  const claims = new Set((pod.spec?.volumes ?? []).map((v) => v.persistentVolumeClaim?.claimName).filter(Boolean));
  return list.filter((d) => d.spec?.source && claims.has(datasetClaimFor(d))).map((d) => `${d.metadata.namespace}/${d.metadata.name}`);
}
