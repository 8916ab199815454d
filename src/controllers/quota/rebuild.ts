// SPDX-License-Identifier: Apache-2.0
/**
 * Rebuilding a quota's ledger from the cluster (pure), for a quota whose status is new,
 * wiped or restored: consumption is the sum of the namespace's usage records; the
 * reservations are the runs sessions hold by their own status and that no record closes;
 * sessions admitted without a run (before the quota existed) are adopted from now on.
 */
import type { AnalysisSession } from '../../api/v1alpha1/analysis-session.ts';
import type { Reservation } from '../../api/v1alpha1/resource-quota.ts';
import type { UsageRecord } from '../../api/v1alpha1/usage-record.ts';
import type { OperatorConfig } from '../../config/schema.ts';
import { doneRunOf, heldRunOf, QUOTA_CONDITION } from '../../policy/quota-ledger.ts';
import { formatTime } from '../../runtime/conditions.ts';
import { demandOf } from './demand.ts';

export interface RebuiltLedger {
  reservations: Reservation[];
  consumed: { gpuSeconds: number; cpuMilliSeconds: number };
  nextRun: number;
}

const num = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : 0);

/** True when the session runs (or may start) without a run of a quota: admitted while no quota governed. */
function admittedWithoutRun(s: AnalysisSession): boolean {
  if (s.metadata.deletionTimestamp || s.spec?.state === 'Stopped' || heldRunOf(s) !== undefined) return false;
  if (['Expired', 'Failed', 'Stopped'].includes(s.status?.phase ?? '')) return false;
  return s.status?.conditions?.some((c) => c.type === QUOTA_CONDITION && c.status === 'True') ?? false;
}

/** The ledger of a namespace as its sessions and usage records show it at `now`. */
export function rebuildLedger(sessions: readonly AnalysisSession[], records: readonly UsageRecord[], config: OperatorConfig, now: number): RebuiltLedger {
  const consumed = { gpuSeconds: 0, cpuMilliSeconds: 0 };
  const closed = new Set<string>();
  let maxRun = 0;
  for (const record of records) {
    consumed.gpuSeconds += num(record.spec?.gpuSeconds);
    consumed.cpuMilliSeconds += num(record.spec?.cpuMilliSeconds);
    closed.add(`${record.spec?.sessionUID}/${record.spec?.run}`);
    maxRun = Math.max(maxRun, num(record.spec?.run));
  }
  for (const s of sessions) maxRun = Math.max(maxRun, num(s.status?.quota?.run), doneRunOf(s));
  const reservations: Reservation[] = [];
  const entry = (s: AnalysisSession, run: number, admittedAt: string): void => {
    const d = demandOf(s, config);
    if (!d) return;
    reservations.push({
      uid: d.uid, session: d.session, user: d.user, run, admittedAt, cpuMillis: d.cpuMillis, memoryBytes: d.memoryBytes, gpus: d.gpus,
      ...(d.profile ? { profile: d.profile } : {}), ...(d.type ? { type: d.type } : {}), ...(d.flavour && d.gpus > 0 ? { flavour: d.flavour } : {}),
    });
  };
  for (const s of sessions) {
    const run = heldRunOf(s);
    if (run !== undefined && !closed.has(`${s.metadata.uid}/${run}`)) entry(s, run, s.status?.quota?.admittedAt ?? formatTime(now));
  }
  for (const s of [...sessions].filter(admittedWithoutRun).sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1))) entry(s, ++maxRun, formatTime(now));
  return { reservations, consumed, nextRun: maxRun + 1 };
}
