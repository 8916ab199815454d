// SPDX-License-Identifier: Apache-2.0
/**
 * decideDatasetMount: from a DatasetMount, the live objects under its names, its
 * namespace's proposal and the time, the volume and claim it should have, what to delete,
 * and its status (pure and total).
 *
 * Contract: objects are written or deleted only when they carry this DatasetMount's UID
 * (the volume's `panalysis.io/dataset-uid` label, the claim's controller owner reference);
 * an object of someone else under one of its names is never touched, and the DatasetMount
 * waits with a condition that names it. A refused source creates nothing; what an earlier,
 * allowed version made is deleted once no pod mounts the claim.
 */
import type { V1PersistentVolume, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { DatasetMount, DatasetMountStatus } from '../../api/v1alpha1/dataset-mount.ts';
import { validateObject } from '../../api/validate.ts';
import type { DatasetsConfig } from '../../config/schema.ts';
import { buildDatasetClaim, buildDatasetVolume, datasetClaimFor, isClaimOf, isOwnVolume, volumeNameFor } from '../../desired/dataset-volume.ts';
import { setCondition } from '../../runtime/conditions.ts';
import type { Condition, ConditionInput } from '../../runtime/conditions.ts';
import type { KubeObject, ObjectRef } from '../../runtime/resource.ts';
import { checkSource } from './check-source.ts';
import type { SourceRefusal } from './check-source.ts';
import { checkPvcSource } from './pvc-source.ts';

export interface DatasetFacts {
  /** The claim sessions will mount (ours, or the admin's for a `pvc` source), from the cache. */
  claim?: V1PersistentVolumeClaim;
  /** The PersistentVolume under this DatasetMount's volume name ({@link volumeNameFor}), whoever made it. */
  volume?: V1PersistentVolume;
  /** The `panalysis.io/proposal` label of the namespace; `undefined` when it has none. */
  proposal?: string;
  /**
   * Pods of the namespace that mount the claim and have not finished; gathered only when
   * a refused source still has objects of ours (`undefined`: not known, so kept).
   */
  usedBy?: string[];
}

/** An object to delete, only if it still has this UID (a delete precondition). */
export type DeleteRef = ObjectRef & { uid: string };

export interface DatasetPlan {
  apply: KubeObject[];
  delete: DeleteRef[];
  status: DatasetMountStatus;
  requeueAfterMs?: number;
}

/** How often a refused DatasetMount whose volume is still mounted looks again (pods of other controllers have no watch). */
export const IN_USE_RECHECK_MS = 60_000;

type Verdict = Omit<ConditionInput, 'type' | 'observedGeneration'>;

/** The source in words for the printer column. */
export function describeSource(dm: DatasetMount): string {
  const s = dm.spec?.source;
  if (s?.nfs) return `nfs ${s.nfs.server}:${s.nfs.path}`;
  if (s?.hostPath) return `hostPath ${s.hostPath.path}`;
  if (s?.pvc) return `pvc ${s.pvc.claimName}`;
  if (s?.csi) return `csi ${s.csi.driver} ${s.csi.volumeHandle}`;
  return 'invalid';
}

function conditions(dm: DatasetMount, now: number, entries: Array<[string, Verdict]>): Condition[] {
  const stored = Array.isArray(dm.status?.conditions) ? (dm.status!.conditions as Condition[]) : [];
  let out = stored;
  for (const [type, v] of entries) out = setCondition(out, { type, ...v, observedGeneration: dm.metadata.generation }, now);
  return out;
}

function writable(dm: DatasetMount, now: number): { verdict: Verdict; nextChangeMs?: number } {
  if (dm.spec.readOnly !== false) return { verdict: { status: 'False', reason: 'ReadOnly', message: 'The dataset is read-only for everyone.' } };
  const until = dm.spec.writableUntil ? Date.parse(dm.spec.writableUntil) : undefined;
  if (until !== undefined && now >= until) return { verdict: { status: 'False', reason: 'WriteWindowClosed', message: `Write access ended at ${dm.spec.writableUntil}; sessions mount it read-only.` } };
  const groups = (dm.spec.access.writeGroups ?? []).join(', ');
  return { verdict: { status: 'True', reason: 'Writable', message: `Members of ${groups} may write${until ? ` until ${dm.spec.writableUntil}` : ''}.` }, nextChangeMs: until !== undefined ? until - now : undefined };
}

const ALLOWED: Verdict = { status: 'True', reason: 'Allowed', message: 'The source lies under an allowed root.' };

/** A live object under one of our names that is not ours: the reason and message, else `undefined`. */
function findConflict(dm: DatasetMount, facts: DatasetFacts, makesVolume: boolean): SourceRefusal | undefined {
  if (!makesVolume) return undefined;
  const ns = dm.metadata.namespace!;
  if (facts.volume && !isOwnVolume(facts.volume, dm, facts.claim)) {
    const name = facts.volume.metadata?.name;
    return { reason: 'VolumeConflict', message: `PersistentVolume ${name} exists and does not belong to this DatasetMount (its label panalysis.io/dataset-uid is not ${dm.metadata.uid}); it is left untouched: remove it, or recreate the DatasetMount under another name.` };
  }
  if (facts.claim && !isClaimOf(facts.claim, dm)) {
    const name = datasetClaimFor(dm);
    return { reason: 'ClaimConflict', message: `PersistentVolumeClaim ${name} exists in namespace ${ns} and is not controlled by this DatasetMount; it is left untouched: remove it, or recreate the DatasetMount under another name.` };
  }
  return undefined;
}

/**
 * A refused source: nothing is created. Objects of ours from an earlier, allowed state
 * (a configuration that allowed the root) are deleted once no pod mounts the claim.
 */
function refuse(dm: DatasetMount, facts: DatasetFacts, refusal: SourceRefusal, base: DatasetMountStatus, now: number): DatasetPlan {
  const ns = dm.metadata.namespace!;
  const ownVolume = isOwnVolume(facts.volume, dm, facts.claim) ? facts.volume : undefined;
  const ownClaim = !dm.spec.source.pvc && isClaimOf(facts.claim, dm) ? facts.claim : undefined;
  const v: Verdict = { status: 'False', ...refusal };
  if (!ownVolume && !ownClaim) return { apply: [], delete: [], status: { ...base, conditions: conditions(dm, now, [['SourceAllowed', v], ['Ready', v]]) } };
  const users = facts.usedBy;
  const kept = {
    ...base,
    ...(ownVolume ? { persistentVolume: ownVolume.metadata!.name } : {}),
    ...(ownClaim ? { claimName: ownClaim.metadata!.name } : {}),
  };
  if (users === undefined || users.length > 0) {
    const inUse: Verdict = { status: 'False', reason: refusal.reason, message: `${refusal.message}. The volume is removed once no session mounts it${users ? ` (mounted by pods ${users.join(', ')})` : ''}.` };
    return { apply: [], delete: [], status: { ...kept, conditions: conditions(dm, now, [['SourceAllowed', v], ['Ready', inUse]]) }, requeueAfterMs: IN_USE_RECHECK_MS };
  }
  const del: DeleteRef[] = [];
  if (ownClaim) del.push({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns, name: ownClaim.metadata!.name!, uid: ownClaim.metadata!.uid! });
  if (ownVolume) del.push({ apiVersion: 'v1', kind: 'PersistentVolume', name: ownVolume.metadata!.name!, uid: ownVolume.metadata!.uid! });
  const removing: Verdict = { status: 'False', reason: refusal.reason, message: `${refusal.message}. No session mounts it: removing its volume and claim (never the data).` };
  return { apply: [], delete: del, status: { ...base, conditions: conditions(dm, now, [['SourceAllowed', v], ['Ready', removing]]) } };
}

/**
 * `status` with `Ready=False`, reason `Forbidden`, for a write the API server refused
 * (`serverMessage`): in a namespace where the operator holds no RoleBinding, or one an
 * admission policy guards against it. The fix is named.
 */
export function forbiddenStatus(dm: DatasetMount, status: DatasetMountStatus, serverMessage: string, now: number): DatasetMountStatus {
  const v: Verdict = {
    status: 'False', reason: 'Forbidden',
    message: `The operator may not write this DatasetMount's volume or claim: ${serverMessage}. In a proposal namespace, bind the ClusterRole panalysis-operator-namespaced to the operator's ServiceAccount (docs/operator-rbac.md).`,
  };
  return { ...status, conditions: conditions(dm, now, [['Ready', v]]) };
}

/** Decides the objects and status of one DatasetMount. */
export function decideDatasetMount(dm: DatasetMount, facts: DatasetFacts, allowed: DatasetsConfig, now: number): DatasetPlan {
  const problems = validateObject(dm);
  const status: DatasetMountStatus = { observedGeneration: dm.metadata.generation, source: describeSource(dm) };
  if (problems.length > 0) {
    const v: Verdict = { status: 'False', reason: 'InvalidSpec', message: `The stored DatasetMount is invalid: ${problems.slice(0, 5).map((p) => `${p.field}: ${p.message}`).join('; ')}` };
    return { apply: [], delete: [], status: { ...status, conditions: conditions(dm, now, [['Ready', v]]) } };
  }
  const refusal = checkSource(dm, allowed, facts.proposal) ?? checkPvcSource(dm, facts.claim);
  if (refusal) return refuse(dm, facts, refusal, status, now);
  const volumeName = volumeNameFor(dm, facts.claim);
  const volume = buildDatasetVolume(dm, allowed.nfsMountOptions, volumeName);
  const claim = buildDatasetClaim(dm, volumeName);
  const claimName = datasetClaimFor(dm);
  const conflict = findConflict(dm, facts, volume !== undefined);
  if (conflict) {
    const v: Verdict = { status: 'False', ...conflict };
    return { apply: [], delete: [], status: { ...status, conditions: conditions(dm, now, [['SourceAllowed', ALLOWED], ['Ready', v]]) } };
  }
  const bound = facts.claim?.status?.phase === 'Bound';
  const boundVerdict: Verdict = bound
    ? { status: 'True', reason: 'Bound', message: `Claim ${claimName} is bound to volume ${facts.claim!.spec?.volumeName}.` }
    : { status: 'False', reason: facts.claim ? 'ClaimPending' : dm.spec.source.pvc ? 'ClaimNotFound' : 'ClaimCreating', message: facts.claim ? `Claim ${claimName} is ${facts.claim.status?.phase ?? 'pending'}.` : dm.spec.source.pvc ? `spec.source.pvc.claimName: no PVC ${claimName} in namespace ${dm.metadata.namespace}.` : `Creating claim ${claimName}.` };
  const w = writable(dm, now);
  const ready: Verdict = bound ? { status: 'True', reason: 'Ready', message: `Sessions mount ${describeSource(dm)} at ${dm.spec.mountPath}.` } : boundVerdict;
  return {
    apply: [volume, claim].filter((o): o is NonNullable<typeof o> => o !== undefined) as KubeObject[],
    delete: [],
    status: {
      ...status,
      ...(volume ? { persistentVolume: volume.metadata!.name } : {}),
      claimName,
      conditions: conditions(dm, now, [['SourceAllowed', ALLOWED], ['Bound', boundVerdict], ['Writable', w.verdict], ['Ready', ready]]),
    },
    requeueAfterMs: w.nextChangeMs !== undefined ? Math.max(1000, w.nextChangeMs) : undefined,
  };
}
