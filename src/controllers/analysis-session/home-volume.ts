// SPDX-License-Identifier: Apache-2.0
/**
 * When the session pod may be created with respect to its home claim (pure).
 *
 * A pod whose claim is not bound yet cannot be scheduled when the claim's storage class
 * binds immediately: the scheduler marks it unschedulable ("unbound immediate
 * PersistentVolumeClaims"), backs it off, and reports it, once per attempt, in events and
 * in the pod's status. So the pod is created once such a claim is bound. A class that
 * binds on the first consumer (`WaitForFirstConsumer`) needs the pod to bind at all, so
 * there the pod is created at once; so it is where the class is not known.
 */
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { Verdict } from './observe-pod.ts';

/** What the session controller knows of a StorageClass. */
export interface StorageClassFact {
  name: string;
  /** `volumeBindingMode` is `Immediate` (the default). */
  bindsImmediately: boolean;
  /** Annotated `storageclass.kubernetes.io/is-default-class: "true"`. */
  isDefault: boolean;
}

/** After this long unbound, the session's status names the claim and its class (a provisioner may be down). */
export const HOME_VOLUME_PATIENCE_MS = 60_000;

/** The waiting verdict of a session whose pod is not created yet, or is not placed on a node yet. */
export const SCHEDULING: Verdict = { status: 'Unknown', reason: 'Scheduling', message: 'Waiting for the session pod to be placed on a node.' };

/** The StorageClass a claim (or the claim we are about to create) uses: its own, else the cluster's default. */
function classOf(claim: V1PersistentVolumeClaim, classes: readonly StorageClassFact[]): StorageClassFact | undefined {
  const name = claim.spec?.storageClassName;
  if (name !== undefined && name !== null) return classes.find((c) => c.name === name);
  return classes.find((c) => c.isDefault);
}

/**
 * Undefined when the pod may be created now; else the verdict to report while it waits for
 * `live` (the session's own home claim, undefined before it exists) to be bound. `wanted` is
 * the claim the session should have; `classes` the cluster's StorageClasses (undefined: not known).
 * After {@link HOME_VOLUME_PATIENCE_MS} the verdict names the claim and its class; before that it is
 * {@link SCHEDULING}, so that a normal start reports no extra status.
 */
export function homeVolumeWait(live: V1PersistentVolumeClaim | undefined, wanted: V1PersistentVolumeClaim, classes: readonly StorageClassFact[] | undefined, now: number): Verdict | undefined {
  if (live?.status?.phase === 'Bound' || live?.status?.phase === 'Lost' || live?.spec?.volumeName) return undefined;
  if (!classes) return undefined;
  const cls = classOf(live ?? wanted, classes);
  if (!cls || !cls.bindsImmediately) return undefined;
  const created = Date.parse(String(live?.metadata?.creationTimestamp ?? ''));
  if (Number.isNaN(created) || now - created < HOME_VOLUME_PATIENCE_MS) return SCHEDULING;
  // The message names when the claim was made, never how long ago: a status that changed with
  // every look would be written again at each reconcile, the more so the busier the cluster.
  const since = new Date(created).toISOString().replace('.000Z', 'Z');
  return {
    status: 'Unknown',
    reason: 'HomeVolumePending',
    message: `Waiting for the home volume: claim ${live!.metadata!.name} of storage class ${cls.name}, made at ${since}, is not bound yet; the pod is created once it is. An administrator can look at the claim's events and the class's provisioner.`,
  };
}

/** When to look again at a session whose pod waits for its home claim: when the patience runs out. */
export function homeVolumeWakeup(live: V1PersistentVolumeClaim | undefined, now: number): number {
  const created = Date.parse(String(live?.metadata?.creationTimestamp ?? ''));
  if (Number.isNaN(created)) return HOME_VOLUME_PATIENCE_MS;
  const left = created + HOME_VOLUME_PATIENCE_MS - now;
  return left > 0 ? left : 30_000;
}
