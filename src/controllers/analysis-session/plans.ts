// SPDX-License-Identifier: Apache-2.0
/**
 * The plans of a session that may not run as asked (pure): refused, held while a source
 * is unreachable, revoked after a grace period, in conflict with an object it does not
 * own, being deleted; and the lifecycle rule every plan obeys (a stopped or expired
 * session has no pod, whatever else is true).
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { AnalysisSession, AnalysisSessionStatus } from '../../api/v1alpha1/analysis-session.ts';
import type { Condition } from '../../runtime/conditions.ts';
import type { SessionFacts, SessionPlan } from './decide.ts';
import { observePod } from './observe-pod.ts';
import type { Verdict } from './observe-pod.ts';
import { CONDITIONS, podRef, withConditions } from './running-plan.ts';
import type { LifecycleDecision } from '../../policy/lifecycle.ts';
import { renewalsAtStart } from '../../policy/lifecycle-session.ts';
import { formatTime } from '../../runtime/conditions.ts';
import { sessionUrl } from '../../desired/session-url.ts';
import type { OperatorConfig } from '../../config/schema.ts';

/** The conditions the lifecycle keeps: a warning before the end of the run, whether renewals were applied, and idleness. */
export const LIFECYCLE_CONDITIONS = { expiring: 'Expiring', renewed: 'Renewed', idle: 'Idle' } as const;

/** Retry interval while a source is unreachable. */
export const RETRY_MS = 30_000;
/** Look again this often while an object someone else owns is in the way (it is not watched). */
export const CONFLICT_RETRY_MS = 60_000;
/** Look again this often while a deleted session's pod is still shutting down. */
export const DELETION_POLL_MS = 2_000;
/** The finalizer the operator puts on sessions: their pod is stopped before they go. */
export const SESSION_FINALIZER = 'panalysis.io/session-cleanup';

const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/** Conditions of a stored status that look like conditions; anything else is dropped. */
export function storedConditions(s: AnalysisSession): Condition[] {
  const list = (s.status as { conditions?: unknown } | undefined)?.conditions;
  if (!Array.isArray(list)) return [];
  return list.filter((c): c is Condition => typeof c === 'object' && c !== null && typeof c.type === 'string' && typeof c.status === 'string' && typeof c.lastTransitionTime === 'string');
}

/** When the session's current run ends, as stored. */
function expiry(s: AnalysisSession): number | undefined {
  const at = s.status?.expiresAt ? Date.parse(s.status.expiresAt) : Number.NaN;
  return Number.isFinite(at) ? at : undefined;
}

/** Whether the session is asked to stop (`spec.state: Stopped`); expiry is decided by the lifecycle (`policy/lifecycle.ts`) before any plan. */
export function mustStop(s: AnalysisSession, _now?: number): 'Stopped' | undefined {
  return s.spec?.state === 'Stopped' ? 'Stopped' : undefined;
}

/** No pod is created; nothing is deleted (home, credentials and a pod of a stopped session are handled by the caller). */
export function refusedPlan(s: AnalysisSession, status: AnalysisSessionStatus, verdicts: Array<[string, Verdict]>, refusal: Verdict, now: number, retryMs?: number): SessionPlan {
  status.phase = retryMs ? 'Pending' : 'Failed';
  status.message = refusal.message;
  const ready: Verdict = { status: refusal.status === 'Unknown' ? 'Unknown' : 'False', reason: refusal.reason, message: refusal.message };
  status.conditions = withConditions(s, now, [...verdicts, [CONDITIONS.scheduled, { status: 'Unknown', reason: 'NotStarted', message: 'No pod is created until the session may start.' }], [CONDITIONS.ready, ready]]);
  return { apply: [], delete: [], replace: [], status, requeueAfterMs: retryMs };
}

/**
 * A source is unreachable (or a grace period runs) but the pod runs: keep it as it is, and
 * look again after `retryMs` or at the end of its lifetime, whichever comes first.
 */
export function holdPlan(s: AnalysisSession, status: AnalysisSessionStatus, verdicts: Array<[string, Verdict]>, pod: V1Pod, now: number, why: string, retryMs = RETRY_MS): SessionPlan {
  const obs = observePod(pod);
  status.phase = obs.ready.status === 'True' ? 'Running' : 'Starting';
  status.message = `${obs.ready.message} ${why} Access is checked again when it answers.`;
  if (obs.node) status.node = obs.node;
  for (const key of ['startedAt', 'expiresAt', 'imageDigest'] as const) if (s.status?.[key]) status[key] = s.status[key];
  status.conditions = withConditions(s, now, [...verdicts, [CONDITIONS.scheduled, obs.scheduled], [CONDITIONS.ready, obs.ready]]);
  const at = expiry(s);
  return { apply: [], delete: [], replace: [], status, requeueAfterMs: Math.max(1000, Math.min(retryMs, at === undefined ? Infinity : at - now)) };
}

/**
 * The right to run was lost while the pod runs (`refusal`, any definite refusal): keep it
 * for the grace period, counted from when `Authorized` first became False, then stop it.
 */
export function revokePlan(s: AnalysisSession, status: AnalysisSessionStatus, verdicts: Array<[string, Verdict]>, refusal: Verdict, pod: V1Pod, graceMs: number, now: number): SessionPlan {
  const prev = storedConditions(s).find((c) => c.type === CONDITIONS.authorized);
  const since = prev && prev.status === 'False' ? Date.parse(prev.lastTransitionTime) : now;
  const deadline = (Number.isFinite(since) ? since : now) + graceMs;
  const authorized: Verdict = { status: 'False', reason: refusal.reason, message: refusal.message };
  const withAccess: Array<[string, Verdict]> = [...verdicts.filter(([t]) => t !== CONDITIONS.authorized), [CONDITIONS.authorized, authorized]];
  if (now < deadline) {
    const plan = holdPlan(s, status, withAccess, pod, now, '', deadline - now);
    plan.status.message = `Access revoked: ${refusal.message} The session stops at ${rfc3339(deadline)} unless access is restored.`;
    return plan;
  }
  status.phase = 'Stopping';
  status.message = `Stopped after the grace period because access was revoked: ${refusal.message} Home and credentials are kept.`;
  status.conditions = withConditions(s, now, [...withAccess, [CONDITIONS.ready, { status: 'False', reason: 'AccessRevoked', message: status.message }]]);
  return { apply: [], delete: [podRef(s, pod)], replace: [], status };
}

/** An object the session does not own holds one of its child names: stop our pod, touch nothing else, wait. */
export function conflictPlan(s: AnalysisSession, status: AnalysisSessionStatus, facts: SessionFacts, now: number): SessionPlan {
  const message = `${facts.conflicts!.join('; ')}. The session waits until the name is free.`;
  status.phase = 'Pending';
  status.message = message;
  const ready: Verdict = { status: 'False', reason: 'ChildConflict', message };
  status.conditions = withConditions(s, now, [[CONDITIONS.scheduled, { status: 'Unknown', reason: 'NotStarted', message: 'No pod is created until the conflict is resolved.' }], [CONDITIONS.ready, ready]]);
  const pods = [facts.pod, facts.orphanPod].filter((p): p is V1Pod => p !== undefined && !p.metadata?.deletionTimestamp);
  return { apply: [], delete: pods.map((p) => podRef(s, p)), replace: [], status, requeueAfterMs: CONFLICT_RETRY_MS };
}

/**
 * The session is being deleted: its pod (its own, or its own orphaned by a
 * `--cascade=orphan` delete) is stopped, nothing is created, and once no pod is left the
 * operator's finalizer may go (`release`). Other finalizers are never touched.
 */
export function deletionPlan(s: AnalysisSession, facts: Pick<SessionFacts, 'pod' | 'orphanPod'>, now: number): SessionPlan {
  const pods = [facts.pod, facts.orphanPod].filter((p): p is V1Pod => p !== undefined);
  const others = (s.metadata.finalizers ?? []).filter((f) => f !== SESSION_FINALIZER);
  const waiting = others.length > 0 ? ` Waiting for the finalizers ${others.join(', ')}.` : '';
  const message = pods.length > 0 ? 'The session is being deleted; its pod is being stopped.' : `The session is being deleted; its pod is stopped.${waiting}`;
  const status: AnalysisSessionStatus = { observedGeneration: s.metadata.generation, phase: 'Deleting', message };
  for (const key of ['url', 'identity', 'startedAt', 'expiresAt', 'image', 'imageDigest', 'gpu'] as const) if (s.status?.[key] !== undefined) (status as Record<string, unknown>)[key] = s.status[key];
  status.conditions = withConditions(s, now, [
    [CONDITIONS.scheduled, { status: 'False', reason: 'Deleting', message: pods.length > 0 ? 'The session pod is shutting down.' : 'No pod is running.' }],
    [CONDITIONS.ready, { status: 'False', reason: 'Deleting', message }],
  ]);
  return {
    apply: [],
    replace: [],
    delete: pods.filter((p) => !p.metadata?.deletionTimestamp).map((p) => podRef(s, p)),
    status,
    release: pods.length === 0,
    requeueAfterMs: pods.length > 0 ? DELETION_POLL_MS : undefined,
  };
}

/**
 * The plan of a session the lifecycle says must have no pod (stopped or expired), decided
 * without the directory, the proposal or the quota: its pod (if any) is deleted, nothing
 * is created or changed, home, Secret and usage are kept. Once the pod is gone the phase is
 * Stopped or Expired and `stoppedAt` records when; past the retention period (if the
 * policy sets one) the plan asks to delete the session (`retire`).
 */
export function stoppedPlan(s: AnalysisSession, facts: Pick<SessionFacts, 'pod'>, config: OperatorConfig, life: LifecycleDecision, runStart: number | undefined, now: number): SessionPlan {
  const pod = facts.pod;
  const status: AnalysisSessionStatus = { observedGeneration: s.metadata.generation };
  for (const key of ['identity', 'image', 'imageDigest', 'gpu'] as const) if (s.status?.[key] !== undefined) (status as Record<string, unknown>)[key] = s.status[key];
  status.url = sessionUrl(config.gateway, s.metadata.namespace!, s.metadata.name!);
  // An idle stop reads like an expiry (its own reason and message), but the run it ends is over once the pod is gone.
  const expired = life.stop === 'Expired' ? life.expired! : life.stop === 'Idle' ? life.idleStop! : undefined;
  if (expired && s.status?.startedAt) status.startedAt = s.status.startedAt;
  let ready: Verdict;
  if (pod) {
    status.phase = 'Stopping';
    status.message = expired ? `${expired.message.replace(' and was stopped', '')} Its pod is shutting down.` : 'The session is stopped; its pod is shutting down.';
    ready = { status: 'False', reason: expired ? expired.reason : 'Stopping', message: status.message };
  } else {
    status.phase = life.stop === 'Expired' ? 'Expired' : 'Stopped';
    status.message = expired ? expired.message : 'The session is stopped; its home and credentials are kept. Set spec.state: Running to start it again.';
    ready = { status: 'False', reason: expired ? expired.reason : 'Stopped', message: status.message };
    status.stoppedAt = s.status?.stoppedAt ?? formatTime(now);
  }
  const scheduled: Verdict = pod ? observePod(pod).scheduled : { status: 'False', reason: 'NotScheduled', message: 'No pod is running.' };
  status.conditions = withConditions(s, now, [[CONDITIONS.scheduled, scheduled], [CONDITIONS.ready, ready]]);
  const plan: SessionPlan = { apply: [], replace: [], delete: pod && !pod.metadata?.deletionTimestamp ? [podRef(s, pod)] : [], status };
  if (pod) plan.requeueAfterMs = DELETION_POLL_MS;
  else if (life.deleteAt !== undefined && now >= life.deleteAt) {
    plan.retire = `The session has been stopped since ${status.stoppedAt}, past the retention period (lifecycle.retention) that ended at ${formatTime(life.deleteAt)}; it is deleted with its home.`;
  }
  return withLifecycle(s, plan, life, life.stop === 'Expired' || (life.stop === 'Idle' && pod) ? runStart : undefined, now);
}

/**
 * Writes the lifecycle into `plan`'s status: the run start `runStart` (recorded once per
 * run; undefined: no run, the field goes), `expiresAt`, the `Expiring` warning and
 * the `Renewed` verdict (dropped when they do not apply), and a wake-up at the next
 * instant the lifecycle changes. Both conditions change only at those instants, so no
 * status is written per reconcile.
 */
export function withLifecycle(s: AnalysisSession, plan: SessionPlan, life: LifecycleDecision, runStart: number | undefined, now: number): SessionPlan {
  const status = plan.status;
  if (runStart !== undefined) {
    status.runStartedAt = formatTime(runStart);
    status.renewalsAtStart = renewalsAtStart(s, runStart);
  } else {
    delete status.runStartedAt;
    delete status.renewalsAtStart;
  }
  if (life.expiresAt !== undefined && (runStart !== undefined || life.stop === 'Expired')) {
    status.expiresAt = formatTime(life.expiresAt);
    status.endsBy = life.endsBy;
  } else {
    delete status.expiresAt;
    delete status.endsBy;
  }
  const ours = new Set<string>(Object.values(LIFECYCLE_CONDITIONS));
  let conditions = (status.conditions ?? []).filter((c) => !ours.has(c.type));
  const stored = storedConditions(s);
  const entries: Array<[string, Verdict]> = [];
  if (runStart !== undefined && !life.stop && life.expiresAt !== undefined) {
    entries.push([LIFECYCLE_CONDITIONS.expiring, life.warning ?? { status: 'False', reason: 'NotDue', message: `The run ends at ${formatTime(life.expiresAt)}.` }]);
  }
  if (life.renewal && !life.stop) entries.push([LIFECYCLE_CONDITIONS.renewed, life.renewal]);
  if (life.idle && !life.stop) entries.push([LIFECYCLE_CONDITIONS.idle, life.idle]);
  for (const type of entries.map(([t]) => t)) {
    const kept = stored.find((c) => c.type === type);
    if (kept) conditions = [...conditions, kept];
  }
  status.conditions = withConditions({ ...s, status: { ...status, conditions } }, now, entries);
  if (life.nextCheckAt !== undefined) plan.requeueAfterMs = Math.max(1000, Math.min(plan.requeueAfterMs ?? Infinity, life.nextCheckAt - now));
  return plan;
}
