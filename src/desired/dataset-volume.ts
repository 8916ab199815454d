// SPDX-License-Identifier: Apache-2.0
/**
 * A DatasetMount as a pre-bound static PersistentVolume and its claim (pure).
 * `Retain` (deleting the objects never deletes data), no storage class (no dynamic
 * provisioning; the claim says `storageClassName: ""`), explicit mount options (`ro` where nobody may write), and the
 * claim bound to exactly this volume.
 */
import type { V1PersistentVolume, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { API_VERSION, LABELS } from '../api/v1alpha1/group.ts';
import type { DatasetMount } from '../api/v1alpha1/dataset-mount.ts';
import { readOnly } from './containers.ts';
import { createHash } from 'node:crypto';

/** Nominal size of dataset volumes: static volumes need one, nothing enforces it. */
export const DATASET_CAPACITY = '1Pi';

/** Label on the PV naming the DatasetMount's namespace (PVs are cluster-scoped). */
export const DATASET_NAMESPACE_LABEL = 'panalysis.io/dataset-namespace';

/**
 * Label on the PV carrying the UID of the DatasetMount it realises: the only proof that a
 * volume is ours. Names and the other labels are for people and watches; before the
 * operator deletes or changes a volume it checks this UID.
 */
export const DATASET_UID_LABEL = 'panalysis.io/dataset-uid';

const HASH_HEX = 16;
const MAX_VOLUME_NAME = 63;

/**
 * Deterministic PV name for the DatasetMount `namespace/name`: `panalysis-<namespace>-<name>`
 * cut to fit, then `-` and 16 hex digits of SHA-256 of `namespace/name`. The hash makes names
 * distinct across namespaces (`a`/`b-c` and `a-b`/`c` differ, which the readable part alone
 * would not), and the result is a DNS label of at most 63 characters.
 */
export function datasetVolumeName(namespace: string, name: string): string {
  const hash = createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, HASH_HEX);
  const readable = `panalysis-${namespace}-${name}`.slice(0, MAX_VOLUME_NAME - HASH_HEX - 1).replace(/[.-]+$/, '').replace(/\./g, '-');
  return `${readable}-${hash}`;
}

/** The claim sessions mount. */
export function datasetClaimName(name: string): string {
  return `dataset-${name}`;
}

function labels(dm: DatasetMount): Record<string, string> {
  return { [LABELS.managedBy]: 'panalysis', 'app.kubernetes.io/name': 'panalysis-dataset', [LABELS.dataset]: dm.metadata.name!, [DATASET_NAMESPACE_LABEL]: dm.metadata.namespace! };
}

/** True when `pv` carries `dm`'s identity (its UID label), i.e. the operator made it for `dm`. */
export function isVolumeOf(pv: { metadata?: { labels?: Record<string, string> } } | undefined, dm: DatasetMount): boolean {
  return dm.metadata.uid !== undefined && pv?.metadata?.labels?.[DATASET_UID_LABEL] === dm.metadata.uid;
}

/**
 * The volume name of `dm`: the one its own claim is bound to when that claim exists (a claim's
 * volume cannot change; volumes named by an earlier scheme keep their name), else
 * {@link datasetVolumeName}.
 */
export function volumeNameFor(dm: DatasetMount, claim: V1PersistentVolumeClaim | undefined): string {
  const bound = isClaimOf(claim, dm) ? claim?.spec?.volumeName : undefined;
  return bound || datasetVolumeName(dm.metadata.namespace!, dm.metadata.name!);
}

/**
 * True when `pv` is `dm`'s: it carries `dm`'s UID label, or (a volume made before the label
 * existed) the API server bound it to `dm`'s own claim, by that claim's UID.
 */
export function isOwnVolume(pv: V1PersistentVolume | undefined, dm: DatasetMount, claim: V1PersistentVolumeClaim | undefined): boolean {
  if (isVolumeOf(pv, dm)) return true;
  const claimUid = isClaimOf(claim, dm) ? claim?.metadata?.uid : undefined;
  return claimUid !== undefined && pv?.spec?.claimRef?.uid === claimUid;
}

/** True when `claim`'s controller owner reference carries `dm`'s UID. */
export function isClaimOf(claim: { metadata?: { ownerReferences?: Array<{ uid: string; controller?: boolean }> } } | undefined, dm: DatasetMount): boolean {
  return dm.metadata.uid !== undefined && (claim?.metadata?.ownerReferences ?? []).some((r) => r.controller === true && r.uid === dm.metadata.uid);
}

function readOnlyForAll(dm: DatasetMount): boolean {
  return dm.spec.readOnly !== false;
}

/** The volume source of the PV; `undefined` for `pvc` sources (the claim exists already). */
function volumeSource(dm: DatasetMount): Partial<V1PersistentVolume['spec']> | undefined {
  const ro = readOnlyForAll(dm);
  const src = dm.spec.source;
  if (src.nfs) return { nfs: { server: src.nfs.server, path: src.nfs.path, ...readOnly(ro) } };
  if (src.hostPath) return { hostPath: { path: src.hostPath.path, type: 'Directory' } };
  if (src.csi) return { csi: { driver: src.csi.driver, volumeHandle: src.csi.volumeHandle, ...readOnly(ro), ...(src.csi.volumeAttributes ? { volumeAttributes: src.csi.volumeAttributes } : {}) } };
  return undefined;
}

/**
 * The PV of a dataset, or `undefined` for a `pvc` source. `nfsMountOptions` come from
 * the operator configuration; hostPath volumes take no mount options (read-only is then
 * enforced by the pod's read-only mount).
 */
export function buildDatasetVolume(dm: DatasetMount, nfsMountOptions: readonly string[], volumeName = datasetVolumeName(dm.metadata.namespace!, dm.metadata.name!)): V1PersistentVolume | undefined {
  const source = volumeSource(dm);
  if (!source) return undefined;
  const ro = readOnlyForAll(dm);
  const mountOptions = dm.spec.source.nfs ? [...nfsMountOptions, ...(ro ? ['ro'] : [])] : undefined;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: volumeName, labels: { ...labels(dm), [DATASET_UID_LABEL]: dm.metadata.uid! } },
    spec: {
      capacity: { storage: DATASET_CAPACITY },
      accessModes: [ro ? 'ReadOnlyMany' : 'ReadWriteMany'],
      persistentVolumeReclaimPolicy: 'Retain',
      // No storageClassName: empty means none, and the server drops "" from volumes.
      volumeMode: 'Filesystem',
      ...(mountOptions ? { mountOptions } : {}),
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: dm.metadata.namespace!, name: datasetClaimName(dm.metadata.name!) },
      ...source,
    },
  };
}

/** The claim bound to the dataset's PV, owned by the DatasetMount. */
export function buildDatasetClaim(dm: DatasetMount, volumeName = datasetVolumeName(dm.metadata.namespace!, dm.metadata.name!)): V1PersistentVolumeClaim | undefined {
  if (dm.spec.source.pvc) return undefined;
  const ro = readOnlyForAll(dm);
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: datasetClaimName(dm.metadata.name!),
      namespace: dm.metadata.namespace!,
      labels: labels(dm),
      ownerReferences: [{ apiVersion: API_VERSION, kind: 'DatasetMount', name: dm.metadata.name!, uid: dm.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      accessModes: [ro ? 'ReadOnlyMany' : 'ReadWriteMany'],
      storageClassName: '',
      volumeName,
      volumeMode: 'Filesystem',
      resources: { requests: { storage: DATASET_CAPACITY } },
    },
  };
}

/** The claim sessions mount for `dm`: ours, or the admin's existing one for a `pvc` source. */
export function datasetClaimFor(dm: DatasetMount): string {
  return dm.spec.source.pvc?.claimName ?? datasetClaimName(dm.metadata.name!);
}
