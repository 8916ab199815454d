// SPDX-License-Identifier: Apache-2.0
/**
 * decideSession: from a session, the facts gathered about it and the time, the objects
 * it should have, what to delete, its status and when to look again. Pure and total:
 * it never throws on a stored object, whatever it contains.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { AnalysisSession, AnalysisSessionStatus } from '../../api/v1alpha1/analysis-session.ts';
import type { DatasetMount } from '../../api/v1alpha1/dataset-mount.ts';
import { parseDuration } from '../../api/quantity.ts';
import { validateObject } from '../../api/validate.ts';
import type { OperatorConfig } from '../../config/schema.ts';
import type { SessionCredentials } from '../../desired/session-objects.ts';
import type { PosixIdentity } from '../../identity/directory.ts';
import type { Condition } from '../../runtime/conditions.ts';
import type { KubeObject, ObjectRef } from '../../runtime/resource.ts';
import { decideAccess, REVOKING_REASONS } from './access.ts';
import type { AccessDecision, ProposalFact } from './access.ts';
import type { Verdict } from './observe-pod.ts';
import { observePod } from './observe-pod.ts';
import { isRefusal, resolveRequest } from './request.ts';
import type { ResolvedRequest } from './request.ts';
import { baseStatus, CONDITIONS, podRef, runningPlan, withConditions } from './running-plan.ts';

export { CONDITIONS } from './running-plan.ts';
export type { ProposalFact } from './access.ts';

/** What the directory said about the session's user. */
export type IdentityFact = { kind: 'found'; identity: PosixIdentity; otherGroupNames?: string[] } | { kind: 'missing' } | { kind: 'unavailable'; message: string };

export interface SessionFacts {
  identity: IdentityFact;
  credentials: SessionCredentials;
  /** The live pod from the cache, if any. */
  pod?: V1Pod;
  /** The proposal of the session's namespace; `none` when the namespace has no proposal label. */
  proposal?: ProposalFact;
  /** The requested DatasetMounts by name (undefined: no such DatasetMount in the namespace). */
  datasets?: Map<string, DatasetMount | undefined>;
  /** Names of all DatasetMounts of the namespace (for messages). */
  availableDatasets?: string[];
}

export interface SessionPlan {
  apply: KubeObject[];
  delete: ObjectRef[];
  status: AnalysisSessionStatus;
  /** Look again after this long (lifetime end, directory retry, grace end); undefined: on change only. */
  requeueAfterMs?: number;
}

const RETRY_MS = 30_000;
const UNKNOWN: Verdict = { status: 'Unknown', reason: 'NotChecked', message: 'Not checked yet.' };

function checkIdentity(fact: IdentityFact, s: AnalysisSession, config: OperatorConfig): Verdict {
  if (fact.kind === 'unavailable') return { status: 'Unknown', reason: 'DirectoryUnavailable', message: `The directory cannot be reached; the session waits and retries (${fact.message}).` };
  if (fact.kind === 'missing') return { status: 'False', reason: 'UserNotFound', message: `spec.user: "${s.spec.user}" does not exist in the facility directory; use the username the directory knows.` };
  const { uid, gid } = fact.identity;
  const min = config.directory.minId;
  if (uid < min || gid < min) return { status: 'False', reason: 'InvalidIdentity', message: `spec.user: "${s.spec.user}" has uid ${uid}/gid ${gid} in the directory; sessions run only as uid and gid ${min} or higher.` };
  return { status: 'True', reason: 'Resolved', message: `Runs as uid ${uid}, gid ${gid}.` };
}

/** Conditions of a stored status that look like conditions; anything else is dropped. */
function storedConditions(s: AnalysisSession): Condition[] {
  const list = (s.status as { conditions?: unknown } | undefined)?.conditions;
  if (!Array.isArray(list)) return [];
  return list.filter((c): c is Condition => typeof c === 'object' && c !== null && typeof c.type === 'string' && typeof c.status === 'string' && typeof c.lastTransitionTime === 'string');
}

/** No pod is created; nothing is deleted (home, credentials and a running pod stay as they are). */
function refusedPlan(s: AnalysisSession, status: AnalysisSessionStatus, verdicts: Array<[string, Verdict]>, refusal: Verdict, now: number, retryMs?: number): SessionPlan {
  status.phase = retryMs ? 'Pending' : 'Failed';
  status.message = refusal.message;
  const ready: Verdict = { status: refusal.status === 'Unknown' ? 'Unknown' : 'False', reason: refusal.reason, message: refusal.message };
  status.conditions = withConditions(s, now, [...verdicts, [CONDITIONS.scheduled, { status: 'Unknown', reason: 'NotStarted', message: 'No pod is created until the session may start.' }], [CONDITIONS.ready, ready]]);
  return { apply: [], delete: [], status, requeueAfterMs: retryMs };
}

/** A source is unreachable but the pod runs: keep it as it is and look again soon. */
function holdPlan(s: AnalysisSession, status: AnalysisSessionStatus, verdicts: Array<[string, Verdict]>, pod: V1Pod, now: number, why: string): SessionPlan {
  const obs = observePod(pod);
  status.phase = obs.ready.status === 'True' ? 'Running' : 'Starting';
  status.message = `${obs.ready.message} ${why} Access is checked again when it answers.`;
  if (obs.node) status.node = obs.node;
  for (const key of ['startedAt', 'expiresAt', 'imageDigest'] as const) if (s.status?.[key]) status[key] = s.status[key];
  status.conditions = withConditions(s, now, [...verdicts, [CONDITIONS.scheduled, obs.scheduled], [CONDITIONS.ready, obs.ready]]);
  return { apply: [], delete: [], status, requeueAfterMs: RETRY_MS };
}

/** Access was lost while the pod runs: keep it for the grace period, then stop it. */
function revokePlan(s: AnalysisSession, status: AnalysisSessionStatus, verdicts: Array<[string, Verdict]>, access: AccessDecision, pod: V1Pod, graceMs: number, now: number): SessionPlan {
  const prev = storedConditions(s).find((c) => c.type === CONDITIONS.authorized);
  const since = prev && prev.status === 'False' && REVOKING_REASONS.has(prev.reason) ? Date.parse(prev.lastTransitionTime) : now;
  const deadline = since + graceMs;
  const verdictsWithAccess: Array<[string, Verdict]> = [...verdicts, [CONDITIONS.authorized, access.authorized]];
  if (now < deadline) {
    const plan = holdPlan(s, status, verdictsWithAccess, pod, now, '');
    plan.status.message = `Access revoked: ${access.authorized.message} The session stops at ${new Date(deadline).toISOString().replace('.000Z', 'Z')} unless access is restored.`;
    plan.requeueAfterMs = Math.max(1000, deadline - now);
    return plan;
  }
  status.phase = 'Stopping';
  status.message = `Stopped after the grace period because access was revoked: ${access.authorized.message} Home and credentials are kept.`;
  status.conditions = withConditions(s, now, [...verdictsWithAccess, [CONDITIONS.ready, { status: 'False', reason: 'AccessRevoked', message: status.message }]]);
  return { apply: [], delete: [podRef(s)], status };
}

/** Decides the whole state of one session. */
export function decideSession(stored: AnalysisSession, facts: SessionFacts, config: OperatorConfig, now: number): SessionPlan {
  const s: AnalysisSession = { ...stored, status: typeof stored.status === 'object' && stored.status !== null ? { ...stored.status, conditions: storedConditions(stored) } : undefined };
  const problems = validateObject(s);
  if (problems.length > 0) {
    const refusal: Verdict = { status: 'False', reason: 'InvalidSpec', message: `The stored session is invalid: ${problems.slice(0, 5).map((p) => `${p.field}: ${p.message}`).join('; ')}` };
    return refusedPlan(s, { observedGeneration: s.metadata.generation }, [[CONDITIONS.identity, UNKNOWN]], refusal, now);
  }
  const request = resolveRequest(s, config);
  const status = baseStatus(s, config, facts.identity, isRefusal(request) ? undefined : request);
  const idVerdict = checkIdentity(facts.identity, s, config);
  const live = facts.pod && !facts.pod.metadata?.deletionTimestamp ? facts.pod : undefined;
  const verdicts: Array<[string, Verdict]> = [[CONDITIONS.identity, idVerdict]];
  if (idVerdict.status === 'Unknown') {
    return live ? holdPlan(s, status, [...verdicts, [CONDITIONS.authorized, UNKNOWN]], live, now, 'The directory cannot be reached.') : refusedPlan(s, status, [...verdicts, [CONDITIONS.authorized, UNKNOWN]], idVerdict, now, RETRY_MS);
  }
  if (idVerdict.status === 'False') return refusedPlan(s, status, [...verdicts, [CONDITIONS.authorized, UNKNOWN]], idVerdict, now);
  if (isRefusal(request)) return refusedPlan(s, status, [...verdicts, [CONDITIONS.authorized, UNKNOWN]], { status: 'False', ...request }, now);
  return decideWithAccess(s, facts, config, request, status, verdicts, live, now);
}

function decideWithAccess(s: AnalysisSession, facts: SessionFacts, config: OperatorConfig, request: ResolvedRequest, status: AnalysisSessionStatus, verdicts: Array<[string, Verdict]>, live: V1Pod | undefined, now: number): SessionPlan {
  const found = facts.identity as { identity: PosixIdentity; otherGroupNames?: string[] };
  const access = decideAccess(s, found.identity, facts.proposal ?? { kind: 'none' }, facts.datasets ?? new Map(), facts.availableDatasets ?? [], now, request.profile.imageGroups ?? [], found.otherGroupNames ?? [], parseDuration(config.proposals.writeGraceAfterBeamtime));
  const wantsRunning = s.spec.state !== 'Stopped';
  if (access.outcome === 'wait') {
    const v: Array<[string, Verdict]> = [...verdicts, [CONDITIONS.authorized, access.authorized], [CONDITIONS.data, access.data]];
    return live && wantsRunning ? holdPlan(s, status, v, live, now, access.data.message) : refusedPlan(s, status, v, access.data, now, RETRY_MS);
  }
  if (access.outcome === 'refuse') {
    if (live && wantsRunning && REVOKING_REASONS.has(access.authorized.reason)) {
      return revokePlan(s, status, [...verdicts, [CONDITIONS.data, access.data]], access, live, parseDuration(config.proposals.revocationGracePeriod), now);
    }
    const plan = refusedPlan(s, status, [...verdicts, [CONDITIONS.authorized, access.authorized], [CONDITIONS.data, access.data]], access.authorized, now);
    if (live && !wantsRunning) plan.delete.push(podRef(s));
    return plan;
  }
  return runningPlan(s, facts, config, request, found.identity, access, status, [...verdicts, [CONDITIONS.authorized, access.authorized], [CONDITIONS.data, access.data]], now);
}
