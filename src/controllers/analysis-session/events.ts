// SPDX-License-Identifier: Apache-2.0
/** Which status transitions of a session deserve an Event (pure). */
import type { AnalysisSessionStatus } from '../../api/v1alpha1/analysis-session.ts';
import type { EventType } from '../../runtime/events.ts';

const NORMAL = new Set(['Ready', 'Stopped', 'LifetimeExpired', 'BeamtimeEnded', 'IdleTimeout', 'Restarting', 'Starting', 'PodCreating', 'Stopping', 'Scheduling', 'Deleting']);
/** Steps of every start that the pod's own events (Scheduled, Pulling, Started) already tell: no Event of the session. */
const QUIET = new Set(['Starting', 'PodCreating', 'Scheduling']);

/** An Event of a session: its type, reason and note. */
export interface SessionEvent {
  type: EventType;
  reason: string;
  note: string;
}

type Conditions = AnalysisSessionStatus['conditions'];
const find = (conditions: Conditions, type: string) => conditions?.find((c) => c.type === type);

/** An Event when the Ready reason changed to one worth telling (not a step of every start); none otherwise. */
export function eventFor(before: AnalysisSessionStatus | undefined, after: AnalysisSessionStatus): SessionEvent | undefined {
  const was = find(before?.conditions, 'Ready');
  const now = find(after.conditions, 'Ready');
  if (!now || (was && was.reason === now.reason && was.status === now.status) || QUIET.has(now.reason)) return undefined;
  const reason = now.status === 'True' ? 'SessionReady' : now.reason;
  return { type: NORMAL.has(now.reason) ? 'Normal' : 'Warning', reason, note: now.message };
}

/**
 * The lifecycle's Events: one per warning lead time of a run, with the `Expiring`
 * condition's reason (e.g. `ExpiresWithin1h`, `ExpiresWithin10m`: distinct reasons, so
 * each is an Event of its own, not a repeat of the last), and `RenewalRefused` when a renewal beyond
 * policy is first seen (the `Renewed` condition turning False with a new message), and
 * `IdleSoon` when the `Idle` condition turns True (once per stop time it names). The
 * conditions change only at those instants, so each Event is recorded once.
 */
export function lifecycleEvents(before: AnalysisSessionStatus | undefined, after: AnalysisSessionStatus): SessionEvent[] {
  const out: SessionEvent[] = [];
  const expiring = find(after.conditions, 'Expiring');
  const wasExpiring = find(before?.conditions, 'Expiring');
  if (expiring?.status === 'True' && !(wasExpiring?.status === 'True' && wasExpiring.reason === expiring.reason)) out.push({ type: 'Warning', reason: expiring.reason, note: expiring.message });
  const idle = find(after.conditions, 'Idle');
  const wasIdle = find(before?.conditions, 'Idle');
  if (idle?.status === 'True' && !(wasIdle?.status === 'True' && wasIdle.message === idle.message)) out.push({ type: 'Warning', reason: idle.reason, note: idle.message });
  const renewed = find(after.conditions, 'Renewed');
  const wasRenewed = find(before?.conditions, 'Renewed');
  if (renewed?.status === 'False' && !(wasRenewed?.status === 'False' && wasRenewed.message === renewed.message)) out.push({ type: 'Warning', reason: 'RenewalRefused', note: renewed.message });
  return out;
}

/** Every Event the status change from `before` to `after` deserves. */
export function eventsFor(before: AnalysisSessionStatus | undefined, after: AnalysisSessionStatus): SessionEvent[] {
  const ready = eventFor(before, after);
  return [...(ready ? [ready] : []), ...lifecycleEvents(before, after)];
}
