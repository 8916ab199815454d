// SPDX-License-Identifier: Apache-2.0
/** Which status transitions of a session deserve an Event (pure). */
import type { AnalysisSessionStatus } from '../../api/v1alpha1/analysis-session.ts';
import type { EventType } from '../../runtime/events.ts';

const NORMAL = new Set(['Ready', 'Stopped', 'LifetimeExpired', 'Restarting', 'Starting', 'PodCreating', 'Stopping', 'Scheduling', 'Deleting']);
/** Steps of every start that the pod's own events (Scheduled, Pulling, Started) already tell: no Event of the session. */
const QUIET = new Set(['Starting', 'PodCreating', 'Scheduling']);

/** An Event when the Ready reason changed to one worth telling (not a step of every start); none otherwise. */
export function eventFor(before: AnalysisSessionStatus | undefined, after: AnalysisSessionStatus): { type: EventType; reason: string; note: string } | undefined {
  const was = before?.conditions?.find((c) => c.type === 'Ready');
  const now = after.conditions?.find((c) => c.type === 'Ready');
  if (!now || (was && was.reason === now.reason && was.status === now.status) || QUIET.has(now.reason)) return undefined;
  const reason = now.status === 'True' ? 'SessionReady' : now.reason;
  return { type: NORMAL.has(now.reason) ? 'Normal' : 'Warning', reason, note: now.message };
}
