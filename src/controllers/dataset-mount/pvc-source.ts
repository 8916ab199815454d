// SPDX-License-Identifier: Apache-2.0
/**
 * Checks the claim of a DatasetMount's `pvc` source (pure). A pvc source hands an existing
 * claim to every session whose user the DatasetMount's access groups name, so it must be a
 * claim the admin made for that purpose: never a claim that a panalysis object controls (a
 * session's home, another DatasetMount's claim, whose own access rules would be bypassed),
 * nor one that carries a session's labels (a home claim left behind by an orphaning delete).
 */
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { GROUP, LABELS } from '../../api/v1alpha1/group.ts';
import type { DatasetMount } from '../../api/v1alpha1/dataset-mount.ts';
import type { SourceRefusal } from './check-source.ts';

/**
 * `undefined` when `claim` (the live claim named by `dm.spec.source.pvc`, if any) may be
 * the source, else the refusal naming the claim and what it belongs to. Sources other
 * than `pvc`, and a claim that does not exist yet, are not this check's business.
 */
export function checkPvcSource(dm: DatasetMount, claim: V1PersistentVolumeClaim | undefined): SourceRefusal | undefined {
  const name = dm.spec.source.pvc?.claimName;
  if (name === undefined || claim === undefined) return undefined;
  const fix = 'a pvc source must be a claim an admin made for it; name another claim';
  const controller = claim.metadata?.ownerReferences?.find((r) => r.controller);
  if (controller && controller.apiVersion.split('/')[0] === GROUP) {
    return { reason: 'ClaimNotAllowed', message: `spec.source.pvc.claimName: PersistentVolumeClaim ${name} is controlled by ${controller.kind} ${controller.name}; ${fix}` };
  }
  const session = claim.metadata?.labels?.[LABELS.session];
  if (session !== undefined) {
    return { reason: 'ClaimNotAllowed', message: `spec.source.pvc.claimName: PersistentVolumeClaim ${name} carries the labels of session ${session} (${LABELS.session}); ${fix}` };
  }
  return undefined;
}
