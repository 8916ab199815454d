// SPDX-License-Identifier: Apache-2.0
/** The usage record of one finished run (pure). */
import type { AnalysisSession } from '../../api/v1alpha1/analysis-session.ts';
import { API_VERSION, LABELS } from '../../api/v1alpha1/group.ts';
import type { Reservation, ResourceQuota } from '../../api/v1alpha1/resource-quota.ts';
import type { UsageRecord, UsageRecordSpec } from '../../api/v1alpha1/usage-record.ts';
import { chargeOf } from '../../policy/quota-limits.ts';
import { formatTime } from '../../runtime/conditions.ts';

/** The name of the record of run `run` of the session with `uid`: one per run, so writing it twice is a no-op. */
export function usageRecordName(session: string, uid: string, run: number): string {
  return `${session}-${uid.replace(/-/g, '').slice(0, 8)}-r${run}`;
}

/** Why the run ended, from what the session shows (undefined: the session is gone). */
export function endReasonOf(r: Reservation, s: AnalysisSession | undefined): UsageRecordSpec['endReason'] {
  if (!s) return 'Gone';
  if (s.metadata.deletionTimestamp) return 'Deleted';
  if (r.stop) return 'BudgetExhausted';
  if (s.spec?.state === 'Stopped') return 'Stopped';
  if (s.status?.phase === 'Expired') return 'Expired';
  return 'Refused';
}

/** When the run ended: when the session controller saw its pod gone, else `now`. */
export function endOf(r: Reservation, s: AnalysisSession | undefined, now: number): number {
  const ended = s?.status?.quota?.doneRun === r.run ? Date.parse(s.status.quota.endedAt ?? '') : Number.NaN;
  return Number.isFinite(ended) ? Math.max(ended, Date.parse(r.admittedAt) || ended) : Math.floor(now / 1000) * 1000;
}

/** The immutable record of reservation `r` of `quota`, ended at `end`. */
export function buildUsageRecord(quota: ResourceQuota, proposal: string, r: Reservation, s: AnalysisSession | undefined, end: number): UsageRecord {
  const charge = chargeOf(r, end);
  const spec: UsageRecordSpec = {
    proposal, quota: quota.metadata.name!, session: r.session, sessionUID: r.uid, run: r.run, user: r.user,
    gpus: r.gpus, cpuMillis: r.cpuMillis, memoryBytes: r.memoryBytes,
    start: r.admittedAt, end: formatTime(end), gpuSeconds: charge.gpuSeconds, cpuMilliSeconds: charge.cpuMilliSeconds,
    endReason: endReasonOf(r, s),
    ...(r.profile ? { profile: r.profile } : {}), ...(r.type ? { type: r.type } : {}), ...(r.flavour ? { gpuFlavour: r.flavour } : {}),
    ...(s?.status?.image ? { image: s.status.image } : {}), ...(s?.status?.imageDigest ? { imageDigest: s.status.imageDigest } : {}),
  };
  return {
    apiVersion: API_VERSION,
    kind: 'UsageRecord',
    metadata: {
      name: usageRecordName(r.session, r.uid, r.run),
      namespace: quota.metadata.namespace,
      labels: { [LABELS.proposal]: proposal.slice(0, 63), [LABELS.session]: r.session, [LABELS.user]: r.user, [LABELS.managedBy]: 'panalysis' },
    },
    spec,
  };
}
