// SPDX-License-Identifier: Apache-2.0
/**
 * Which sessions of a namespace wait for the quota, and what each asks for (pure): the
 * session controller has checked them (identity, access, request) at their current
 * generation and found nothing but the quota in the way.
 */
import type { AnalysisSession } from '../../api/v1alpha1/analysis-session.ts';
import { cpuMillis, memoryBytes } from '../../api/quantity.ts';
import type { ResourceQuota } from '../../api/v1alpha1/resource-quota.ts';
import type { OperatorConfig } from '../../config/schema.ts';
import type { Demand } from '../../policy/quota-admission.ts';
import { QUOTA_CONDITION, rejectionOf, reservationOf, waitingOf } from '../../policy/quota-ledger.ts';
import { isRefusal, resolveRequest } from '../analysis-session/request.ts';

/** True when the session waits for admission by `quota`. */
export function isWaitingForQuota(s: AnalysisSession, quota: ResourceQuota): boolean {
  if (s.metadata.deletionTimestamp || s.spec?.state === 'Stopped') return false;
  if (s.status?.observedGeneration !== s.metadata.generation || s.status?.phase !== 'Pending') return false;
  const condition = s.status?.conditions?.find((c) => c.type === QUOTA_CONDITION);
  if (condition?.status !== 'False') return false;
  return !reservationOf(quota, s) && !rejectionOf(quota, s);
}

/**
 * True when the session wants to run but the session controller has not checked its
 * current generation yet: later sessions wait behind it (see `Demand.unchecked`).
 */
export function isUnchecked(s: AnalysisSession): boolean {
  if (s.metadata.deletionTimestamp || s.spec?.state === 'Stopped') return false;
  return s.status?.observedGeneration !== s.metadata.generation;
}

/** A stand-in for an unchecked session: it holds its place in the queue. */
export function placeholderOf(s: AnalysisSession): Demand {
  const created = Date.parse(s.metadata.creationTimestamp ?? '');
  return {
    uid: s.metadata.uid!, session: s.metadata.name!, user: s.spec?.user ?? '', generation: s.metadata.generation ?? 0,
    createdAt: Number.isFinite(created) ? created : 0, cpuMillis: 0, memoryBytes: 0, gpus: 0, lifetimeMs: 0, unchecked: true,
  };
}

/** What `s` asks for, or undefined when its request does not resolve (the session controller reports that). */
export function demandOf(s: AnalysisSession, config: OperatorConfig, quota?: ResourceQuota): Demand | undefined {
  const r = resolveRequest(s, config);
  if (isRefusal(r)) return undefined;
  const created = Date.parse(s.metadata.creationTimestamp ?? '');
  const since = quota ? waitingOf(quota, s)?.since : undefined;
  return {
    uid: s.metadata.uid!, session: s.metadata.name!, user: s.spec.user, profile: s.spec.profile, type: s.spec.type,
    generation: s.metadata.generation ?? 0, createdAt: Number.isFinite(created) ? created : 0,
    cpuMillis: cpuMillis(r.cpu), memoryBytes: memoryBytes(r.memory), gpus: r.gpuCount, ...(r.flavour ? { flavour: r.flavour.name } : {}),
    lifetimeMs: r.lifetimeMs, ...(since ? { waitingSince: since } : {}),
  };
}
