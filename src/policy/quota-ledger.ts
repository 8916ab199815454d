// SPDX-License-Identifier: Apache-2.0
/**
 * Reading the admission ledger (pure), the same way in the quota controller and the
 * session controller: which quota governs a namespace, and whether a session holds a
 * reservation it may still use.
 *
 * The protocol between the two controllers: the quota controller admits a session run
 * (a reservation with a run number); the session controller creates a pod only for a run
 * above the last run it ended (`status.quota.doneRun`), and ends a run (writes `doneRun`)
 * only once its pod is gone; the quota controller releases a reservation only when the
 * session ended that run or is gone. So a stale view of either object can delay a start
 * but never start a pod without a reservation, nor release one whose pod still runs.
 */
import type { AnalysisSession } from '../api/v1alpha1/analysis-session.ts';
import type { Rejection, Reservation, ResourceQuota, Waiting } from '../api/v1alpha1/resource-quota.ts';

/** The session condition that says whether the quota admitted it (and, while False, which limit is full). */
export const QUOTA_CONDITION = 'QuotaAdmitted';

/** Label of a quota written from the facility default; any other quota of the namespace wins over it. */
export const DEFAULT_QUOTA_LABEL = 'panalysis.io/default-quota';

const created = (q: ResourceQuota): number => {
  const t = Date.parse(q.metadata.creationTimestamp ?? '');
  return Number.isFinite(t) ? t : Number.MAX_SAFE_INTEGER;
};

/**
 * The quota that governs a namespace's sessions: the oldest one that was not written from
 * the facility default, else the oldest default (ties by name). Objects being deleted do not govern.
 */
export function governingQuota(quotas: readonly ResourceQuota[]): ResourceQuota | undefined {
  const live = quotas.filter((q) => !q.metadata.deletionTimestamp);
  const own = live.filter((q) => q.metadata.labels?.[DEFAULT_QUOTA_LABEL] !== 'true');
  const pool = own.length > 0 ? own : live;
  return [...pool].sort((a, b) => created(a) - created(b) || ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1))[0];
}

/** The last run the session ended (0: none). */
export function doneRunOf(s: AnalysisSession): number {
  const done = s.status?.quota?.doneRun;
  return typeof done === 'number' && done > 0 ? done : 0;
}

/** The session's reservation in `quota`, if it holds one it may still use (run above its last ended run). */
export function reservationOf(quota: ResourceQuota | undefined, s: AnalysisSession): Reservation | undefined {
  const entry = quota?.status?.reservations?.find((r) => r.uid === s.metadata.uid);
  return entry && entry.run > doneRunOf(s) ? entry : undefined;
}

/** The quota's refusal of the session at its current generation, if any. */
export function rejectionOf(quota: ResourceQuota | undefined, s: AnalysisSession): Rejection | undefined {
  return quota?.status?.rejected?.find((r) => r.uid === s.metadata.uid && r.generation === s.metadata.generation);
}

/** The session's place in the quota's queue, if it waits. */
export function waitingOf(quota: ResourceQuota | undefined, s: AnalysisSession): Waiting | undefined {
  return quota?.status?.waiting?.find((w) => w.uid === s.metadata.uid);
}

/** The run the session holds according to its own status (admitted and not yet ended), if any. */
export function heldRunOf(s: AnalysisSession): number | undefined {
  const run = s.status?.quota?.run;
  return typeof run === 'number' && run > doneRunOf(s) ? run : undefined;
}
