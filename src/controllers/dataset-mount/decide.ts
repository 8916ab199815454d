// SPDX-License-Identifier: Apache-2.0
/**
 * decideDatasetMount: from a DatasetMount, its live claim and the time, the volume and
 * claim it should have and its status (pure and total).
 */
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { DatasetMount, DatasetMountStatus } from '../../api/v1alpha1/dataset-mount.ts';
import { validateObject } from '../../api/validate.ts';
import type { DatasetsConfig } from '../../config/schema.ts';
import { buildDatasetClaim, buildDatasetVolume, datasetClaimFor } from '../../desired/dataset-volume.ts';
import { setCondition } from '../../runtime/conditions.ts';
import type { Condition, ConditionInput } from '../../runtime/conditions.ts';
import type { KubeObject } from '../../runtime/resource.ts';
import { checkSource } from './check-source.ts';

export interface DatasetFacts {
  /** The claim sessions will mount (ours, or the admin's for a `pvc` source), from the cache. */
  claim?: V1PersistentVolumeClaim;
}

export interface DatasetPlan {
  apply: KubeObject[];
  status: DatasetMountStatus;
  requeueAfterMs?: number;
}

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

/** Decides the objects and status of one DatasetMount. */
export function decideDatasetMount(dm: DatasetMount, facts: DatasetFacts, allowed: DatasetsConfig, now: number): DatasetPlan {
  const problems = validateObject(dm);
  const status: DatasetMountStatus = { observedGeneration: dm.metadata.generation, source: describeSource(dm) };
  if (problems.length > 0) {
    const v: Verdict = { status: 'False', reason: 'InvalidSpec', message: `The stored DatasetMount is invalid: ${problems.slice(0, 5).map((p) => `${p.field}: ${p.message}`).join('; ')}` };
    return { apply: [], status: { ...status, conditions: conditions(dm, now, [['Ready', v]]) } };
  }
  const refusal = checkSource(dm, allowed);
  if (refusal) {
    const v: Verdict = { status: 'False', ...refusal };
    return { apply: [], status: { ...status, conditions: conditions(dm, now, [['SourceAllowed', v], ['Ready', v]]) } };
  }
  const volume = buildDatasetVolume(dm, allowed.nfsMountOptions);
  const claim = buildDatasetClaim(dm);
  const claimName = datasetClaimFor(dm);
  const bound = facts.claim?.status?.phase === 'Bound';
  const boundVerdict: Verdict = bound
    ? { status: 'True', reason: 'Bound', message: `Claim ${claimName} is bound to volume ${facts.claim!.spec?.volumeName}.` }
    : { status: 'False', reason: facts.claim ? 'ClaimPending' : dm.spec.source.pvc ? 'ClaimNotFound' : 'ClaimCreating', message: facts.claim ? `Claim ${claimName} is ${facts.claim.status?.phase ?? 'pending'}.` : dm.spec.source.pvc ? `spec.source.pvc.claimName: no PVC ${claimName} in namespace ${dm.metadata.namespace}.` : `Creating claim ${claimName}.` };
  const w = writable(dm, now);
  const ready: Verdict = bound ? { status: 'True', reason: 'Ready', message: `Sessions mount ${describeSource(dm)} at ${dm.spec.mountPath}.` } : boundVerdict;
  return {
    apply: [volume, claim].filter((o): o is NonNullable<typeof o> => o !== undefined) as KubeObject[],
    status: {
      ...status,
      ...(volume ? { persistentVolume: volume.metadata!.name } : {}),
      claimName,
      conditions: conditions(dm, now, [['SourceAllowed', { status: 'True', reason: 'Allowed', message: 'The source lies under an allowed root.' }], ['Bound', boundVerdict], ['Writable', w.verdict], ['Ready', ready]]),
    },
    requeueAfterMs: w.nextChangeMs !== undefined ? Math.max(1000, w.nextChangeMs) : undefined,
  };
}
