// SPDX-License-Identifier: Apache-2.0
/**
 * The lifecycle of one AnalysisSession (pure): reads {@link decideLifecycle}'s inputs off
 * the session, its live pod, its proposal and its quota.
 *
 * The run start is `status.runStartedAt`, recorded once when the run's pod is created and
 * kept in status (so it survives operator restarts) until `spec.state: Stopped`; a new
 * run then records a new start. It is its own field rather than the quota's
 * `status.quota.admittedAt`: sessions without a quota have no admission, an admission may
 * wait in a queue long before the pod exists, and the ledger belongs to the quota
 * controller. It is never taken from readiness; a session with a pod but no recorded
 * start (written by an older operator) counts from the pod's creation (see {@link runStartOf}).
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { AnalysisSession } from '../api/v1alpha1/analysis-session.ts';
import type { OperatorConfig } from '../config/schema.ts';
import type { ProposalInfo } from '../identity/proposals.ts';
import type { ResourceQuota } from '../api/v1alpha1/resource-quota.ts';
import { LAST_ACTIVITY_ANNOTATION } from '../api/v1alpha1/group.ts';
import { idlePolicy } from './idle.ts';
import { decideLifecycle, lifecyclePolicy } from './lifecycle.ts';
import type { LifecycleDecision, LifecycleInput } from './lifecycle.ts';
import { limitsInForce } from './quota-limits.ts';

/** What the session's proposal source said (the shape of the session controller's `ProposalFact`). */
export type ProposalSeen = { kind: 'none' } | { kind: 'found'; info: ProposalInfo } | { kind: 'missing'; id: string } | { kind: 'unavailable'; message: string };

/** What the lifecycle of a session is read from besides the session itself. */
export interface SessionLifecycleFacts {
  /** The session's live pod (not being deleted), if any. */
  pod?: V1Pod;
  /** Undefined: not looked up (treated as unreadable). */
  proposal?: ProposalSeen;
  /** The governing quota, if any. */
  quota?: ResourceQuota;
}

const time = (v: unknown): number | undefined => {
  const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  return Number.isFinite(t) ? t : undefined;
};

/**
 * The recorded start of the session's current run (see the module comment); undefined: no
 * run, stopped, or not in the status yet. A live pod with no recorded start whose status
 * has `startedAt` comes from an operator before `runStartedAt`: its run counts from the
 * pod's creation. Otherwise (the status that recorded the start is not in the cache yet)
 * the caller records the start again at its own "now", a moment later.
 */
export function runStartOf(s: AnalysisSession, pod: V1Pod | undefined): number | undefined {
  if (s.spec?.state === 'Stopped') return undefined;
  const recorded = time(s.status?.runStartedAt);
  if (recorded !== undefined || !pod || pod.metadata?.deletionTimestamp) return recorded;
  return s.status?.startedAt ? time(pod.metadata?.creationTimestamp) : undefined;
}

function beamtimeEnd(p: ProposalSeen | undefined): number | 'unknown' | undefined {
  if (!p || p.kind === 'unavailable') return 'unknown';
  if (p.kind !== 'found') return undefined;
  return time(p.info.beamtime?.end);
}

/** The idle-culling input of `s`: its timeout and GPUs, the gateway's last-activity annotation, and whether (since when) it is stopped for being idle. */
function idleOf(s: AnalysisSession, config: OperatorConfig, profile: string | undefined): LifecycleInput['idle'] {
  const ready = s.status?.conditions?.find((c) => c.type === 'Ready');
  const idleStopped = ready?.reason === 'IdleTimeout';
  const gpus = s.spec?.resources?.gpu?.count;
  return {
    input: {
      idleTimeout: typeof s.spec?.idleTimeout === 'string' ? s.spec.idleTimeout : undefined,
      gpus: typeof gpus === 'number' ? gpus : 0,
      lastActivity: time(s.metadata?.annotations?.[LAST_ACTIVITY_ANNOTATION]),
    },
    policy: idlePolicy(config, profile),
    ...(idleStopped ? { stoppedAt: time(ready.lastTransitionTime) ?? 0, stopMessage: ready.message } : {}),
  };
}

/** `spec.renewals` when the run started at `runStart` began (`status.renewalsAtStart` of a recorded run; the current value for a new run). */
export function renewalsAtStart(s: AnalysisSession, runStart: number | undefined): number {
  const asked = typeof s.spec?.renewals === 'number' ? s.spec.renewals : 0;
  const stored = time(s.status?.runStartedAt);
  if (stored !== undefined && stored === runStart) return typeof s.status?.renewalsAtStart === 'number' ? s.status.renewalsAtStart : 0;
  return asked;
}

/** The renewals of the run started at `runStart`: those asked since it began. */
function renewalsOfRun(s: AnalysisSession, runStart: number | undefined): number | undefined {
  if (typeof s.spec?.renewals !== 'number') return undefined;
  return Math.max(0, s.spec.renewals - renewalsAtStart(s, runStart));
}

/**
 * The lifecycle decision of `s` at `now`, with the run started at `runStart` (default: as
 * recorded, see {@link runStartOf}). Needs no directory: an unread proposal only keeps the
 * stored end of the run as a bound.
 */
export function sessionLifecycle(s: AnalysisSession, config: OperatorConfig, facts: SessionLifecycleFacts, now: number, runStart = runStartOf(s, facts.pod)): LifecycleDecision {
  const profile = typeof s.spec?.profile === 'string' ? s.spec.profile : undefined;
  const policy = lifecyclePolicy(config, profile);
  const stored = time(s.status?.runStartedAt);
  return decideLifecycle({
    state: s.spec?.state,
    lifetime: typeof s.spec?.lifetime === 'string' ? s.spec.lifetime : undefined,
    renewals: renewalsOfRun(s, runStart),
    runStartedAt: runStart,
    storedExpiresAt: stored !== undefined && stored === runStart ? time(s.status?.expiresAt) : undefined,
    storedEndsBy: s.status?.endsBy,
    stoppedAt: time(s.status?.stoppedAt),
    quotaMaxMs: facts.quota?.spec ? limitsInForce(facts.quota.spec, now).limits.maxSessionDurationMs : undefined,
    beamtimeEnd: beamtimeEnd(facts.proposal),
    idle: idleOf(s, config, profile),
    now,
  }, policy);
}

/**
 * Whether `s` must have no pod whatever the directory says (stopped, or expired on what
 * is known without it): then its directory and proposal lookups can be skipped.
 */
export function stopsWithoutDirectory(s: AnalysisSession, config: OperatorConfig, pod: V1Pod | undefined, quota: ResourceQuota | undefined, now: number): boolean {
  if (s.metadata?.deletionTimestamp) return false;
  return sessionLifecycle(s, config, { pod, quota }, now).stop !== undefined;
}
