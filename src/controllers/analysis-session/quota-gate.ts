// SPDX-License-Identifier: Apache-2.0
/**
 * The quota gate of a session (pure). A session whose identity, access and request are
 * in order starts only with a reservation in its proposal's quota; it waits (in creation
 * order, saying which limit is full) or is refused as the quota controller decided. A
 * running pod is never stopped for the quota, except when the budget policy asks.
 *
 * The session's side of the ledger protocol (see `policy/quota-ledger.ts`): it records
 * the run it was admitted for in `status.quota.run`, and once a run is over and its pod
 * gone, `status.quota.doneRun`, after which the quota controller releases the run.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { AnalysisSession, AnalysisSessionStatus } from '../../api/v1alpha1/analysis-session.ts';
import type { ResourceQuota } from '../../api/v1alpha1/resource-quota.ts';
import { heldRunOf, QUOTA_CONDITION, rejectionOf, reservationOf, waitingOf } from '../../policy/quota-ledger.ts';
import type { SessionPlan } from './decide.ts';
import type { Verdict } from './observe-pod.ts';
import { mustStop, refusedPlan } from './plans.ts';
import { CONDITIONS, podRef, withConditions } from './running-plan.ts';

export { QUOTA_CONDITION };

/** The quota of the session's namespace, as the caches show it. */
export type QuotaFact =
  /** No quota, and the operator writes no default: sessions are not limited (nor accounted). */
  | { kind: 'unlimited' }
  /** No quota yet, but the operator writes the facility default: wait for it. */
  | { kind: 'awaitingDefault' }
  | { kind: 'governed'; quota: ResourceQuota };

/** What the gate says: go on with the running plan (with `verdict`), or this plan instead. */
export type GateOutcome = { go: true; verdict: Verdict } | { go: false; plan: SessionPlan };

const name = (q: ResourceQuota): string => q.metadata.name ?? '';

/** The quota's stop of the session, if it holds for the session's current spec. */
function stoppedByQuota(s: AnalysisSession): NonNullable<NonNullable<AnalysisSessionStatus['quota']>['stop']> | undefined {
  const stop = s.status?.quota?.stop;
  return stop && stop.generation === s.metadata.generation ? stop : undefined;
}

/** A plan without a pod that waits for the quota (phase Pending) or is refused by it (phase Failed). */
function notAdmitted(s: AnalysisSession, status: AnalysisSessionStatus, verdicts: Array<[string, Verdict]>, quota: Verdict, final: boolean, now: number): SessionPlan {
  const plan = refusedPlan(s, status, [...verdicts, [QUOTA_CONDITION, quota]], quota, now, final ? undefined : 1);
  plan.requeueAfterMs = undefined;
  plan.gated = true;
  return plan;
}

/**
 * Decides whether the session may have a pod as far as the quota goes. `live` is its
 * running pod, if any; `verdicts` the conditions decided so far.
 */
export function quotaGate(s: AnalysisSession, fact: QuotaFact, live: V1Pod | undefined, status: AnalysisSessionStatus, verdicts: Array<[string, Verdict]>, now: number): GateOutcome {
  if (mustStop(s, now)) return { go: true, verdict: { status: 'False', reason: 'NotRunning', message: 'The session is stopped or expired; it asks the quota again when it runs.' } };
  if (fact.kind === 'unlimited') return { go: true, verdict: { status: 'True', reason: 'NoQuota', message: 'The proposal has no quota: sessions are not limited.' } };
  if (fact.kind === 'awaitingDefault') {
    if (live) return { go: true, verdict: { status: 'True', reason: 'Admitted', message: 'Running; the proposal\'s default quota is being written.' } };
    return { go: false, plan: notAdmitted(s, status, verdicts, { status: 'False', reason: 'AwaitingQuota', message: 'Waiting for the proposal\'s quota: the operator writes the facility default quota into the namespace.' }, false, now) };
  }
  const q = fact.quota;
  const entry = reservationOf(q, s);
  if (entry?.stop) {
    const message = `${entry.stop.message} Set spec.state: Stopped and back to Running to ask the quota again.`;
    const verdict: Verdict = { status: 'False', reason: entry.stop.reason, message };
    if (!live) {
      const plan = notAdmitted(s, status, verdicts, verdict, true, now);
      plan.status.phase = 'Stopped';
      return { go: false, plan };
    }
    status.phase = 'Stopping';
    status.message = message;
    status.conditions = withConditions(s, now, [...verdicts, [QUOTA_CONDITION, verdict], [CONDITIONS.ready, { status: 'False', reason: entry.stop.reason, message }]]);
    return { go: false, plan: { apply: [], replace: [], delete: [podRef(s, live)], status, gated: true } };
  }
  if (entry) return { go: true, verdict: { status: 'True', reason: 'Admitted', message: `Admitted by quota ${name(q)} (run ${entry.run}).` } };
  const stopped = stoppedByQuota(s);
  if (stopped && !live) {
    const plan = notAdmitted(s, status, verdicts, { status: 'False', reason: stopped.reason, message: `${stopped.message} Set spec.state: Stopped and back to Running to ask the quota again.` }, true, now);
    plan.status.phase = 'Stopped';
    return { go: false, plan };
  }
  if (live) return { go: true, verdict: { status: 'True', reason: 'Admitted', message: `Running under quota ${name(q)}.` } };
  const rejection = rejectionOf(q, s);
  if (rejection) return { go: false, plan: notAdmitted(s, status, verdicts, { status: 'False', reason: rejection.reason, message: rejection.message }, true, now) };
  const waiting = waitingOf(q, s);
  const held = heldRunOf(s);
  const verdict: Verdict = waiting
    ? { status: 'False', reason: waiting.reason, message: waiting.message }
    : { status: 'False', reason: 'AwaitingQuota', message: held ? `Waiting for quota ${name(q)} to confirm run ${held}.` : `Waiting for admission by quota ${name(q)}.` };
  return { go: false, plan: notAdmitted(s, status, verdicts, verdict, false, now) };
}

const ENDED_PHASES = ['Stopped', 'Expired', 'Failed', 'Deleting'];

/**
 * Sets `status.quota` on `plan` (carried over, the admitted run recorded) and the
 * `QuotaAdmitted` condition where the gate was not reached; asks to end the held run
 * (`endRun`) when the session no longer needs it and has no pod.
 */
export function withQuotaStatus(s: AnalysisSession, fact: QuotaFact | undefined, pod: V1Pod | undefined, plan: SessionPlan, now: number): SessionPlan {
  const quota: NonNullable<AnalysisSessionStatus['quota']> = { ...(s.status?.quota ?? {}) };
  const q = fact?.kind === 'governed' ? fact.quota : undefined;
  if (q) quota.name = name(q);
  const entry = q ? reservationOf(q, s) : undefined;
  if (entry && !s.metadata.deletionTimestamp) {
    quota.run = entry.run;
    quota.admittedAt = entry.admittedAt;
  }
  const held = heldRunOf({ ...s, status: { ...s.status, quota } });
  const podLeft = (pod !== undefined) || plan.apply.some((o) => o.kind === 'Pod');
  // Stopped or expired ends the run on every path, also while the directory cannot be reached (the phase then says Pending).
  const ended = ENDED_PHASES.includes(plan.status.phase ?? '') || Boolean(entry?.stop) || mustStop(s, now) !== undefined;
  if (held !== undefined && ended && !podLeft) plan.endRun = held;
  // A stop by the quota outlives the run's release: the session stays stopped until its spec changes.
  if (entry?.stop && !podLeft) quota.stop = { reason: entry.stop.reason, message: entry.stop.message, generation: s.metadata.generation ?? 0 };
  else if (quota.stop && quota.stop.generation !== s.metadata.generation) delete quota.stop;
  if (!plan.gated && held === undefined && !entry && plan.status.phase !== 'Deleting') {
    plan.status.conditions = withConditions({ ...s, status: plan.status }, now, [[QUOTA_CONDITION, { status: 'Unknown', reason: 'NotChecked', message: 'The quota is asked once nothing else stands in the way of the session.' }]]);
  }
  if (Object.keys(quota).length > 0) plan.status.quota = quota;
  return plan;
}
