// SPDX-License-Identifier: Apache-2.0
/**
 * decideSession: from a session, the facts gathered about it and the time, the objects
 * it should have, what to replace or delete, its status and when to look again. Pure and
 * total: it never throws on a stored object, whatever it contains.
 *
 * Order: deletion first (a session being deleted only stops its pod), then the lifecycle
 * (`policy/lifecycle.ts`), before identity, access and quota: stopped or expired means no
 * pod, whatever else holds (directory down, user unknown, access pending, quota queued,
 * invalid spec), and a lifetime above the maximum is a refusal; children it does not own
 * stop it; a definite refusal (unknown or invalid user, profile gone, proposal or dataset
 * gone, access lost) stops a running pod after the revocation grace period; an unreachable
 * directory holds a running pod as it is.
 */
import type { V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import type { AnalysisSession, AnalysisSessionStatus } from '../../api/v1alpha1/analysis-session.ts';
import type { DatasetMount } from '../../api/v1alpha1/dataset-mount.ts';
import { parseDuration } from '../../api/quantity.ts';
import { validateObject } from '../../api/validate.ts';
import type { OperatorConfig } from '../../config/schema.ts';
import type { SessionCredentials } from '../../desired/session-objects.ts';
import type { PosixIdentity } from '../../identity/directory.ts';
import type { KubeObject, ObjectRef } from '../../runtime/resource.ts';
import { RUN_STARTED_AT_ANNOTATION } from '../../api/v1alpha1/group.ts';
import { decideAccess } from './access.ts';
import type { AccessDecision, ProposalFact } from './access.ts';
import type { ChildKind } from './children.ts';
import type { Verdict } from './observe-pod.ts';
import { conflictPlan, deletionPlan, holdPlan, refusedPlan, RETRY_MS, revokePlan, storedConditions, stoppedPlan, withLifecycle } from './plans.ts';
import { runStartOf, sessionLifecycle } from '../../policy/lifecycle-session.ts';
import type { SessionLifecycleFacts } from '../../policy/lifecycle-session.ts';
import { formatTime } from '../../runtime/conditions.ts';
import { isRefusal, resolveRequest } from './request.ts';
import type { Refusal, ResolvedRequest } from './request.ts';
import { baseStatus, CONDITIONS, keptChildren, runningPlan } from './running-plan.ts';
import { QUOTA_CONDITION, quotaGate, withQuotaStatus } from './quota-gate.ts';
import type { QuotaFact } from './quota-gate.ts';
import type { StorageClassFact } from './home-volume.ts';
import { settleFor } from './start-settle.ts';

export { CONDITIONS } from './running-plan.ts';
export { SESSION_FINALIZER } from './plans.ts';
export type { ProposalFact } from './access.ts';

/** What the directory said about the session's user. */
export type IdentityFact = { kind: 'found'; identity: PosixIdentity; otherGroupNames?: string[] } | { kind: 'missing' } | { kind: 'unavailable'; message: string };

export interface SessionFacts {
  identity: IdentityFact;
  credentials: SessionCredentials;
  /** The session's own live pod (controlled by it), if any. */
  pod?: V1Pod;
  /** The UID of the session's Namespace, the controller of its NetworkPolicy (undefined: not known; no pod is then created). */
  namespaceUid?: string;
  /** The session's own children by kind (controlled by it; the NetworkPolicy by its Namespace), for the exact comparison. */
  children?: Partial<Record<ChildKind, KubeObject>>;
  /** Objects under the session's child names that it does not own, one sentence each. */
  conflicts?: string[];
  /** The session's pod orphaned by a `--cascade=orphan` delete (see `ChildrenFacts.orphanPod`). */
  orphanPod?: V1Pod;
  /** The proposal of the session's namespace; `none` when the namespace has no proposal label. */
  proposal?: ProposalFact;
  /** The requested DatasetMounts by name (undefined: no such DatasetMount in the namespace). */
  datasets?: Map<string, DatasetMount | undefined>;
  /** Names of all DatasetMounts of the namespace (for messages). */
  availableDatasets?: string[];
  /** The quota of the namespace; undefined is treated as unlimited. */
  quota?: QuotaFact;
  /** The cluster's StorageClasses (whether the home claim binds before its pod exists); undefined: not known. */
  storageClasses?: readonly StorageClassFact[];
}

/** A delete the plan asks for, always with the UID of the exact object (a precondition). */
export type DeleteRef = ObjectRef & { uid: string };

export interface SessionPlan {
  /** Server-side applies. */
  apply: KubeObject[];
  /** Whole-object replacements (PUT with the live resourceVersion) of children that differ from what they should be. */
  replace: KubeObject[];
  delete: DeleteRef[];
  status: AnalysisSessionStatus;
  /** Look again after this long (lifetime end, directory retry, grace end); undefined: on change only. */
  requeueAfterMs?: number;
  /** The session is being deleted and has no pod left: the operator's finalizer may be removed. */
  release?: boolean;
  /** The quota gate decided this plan (or let it through), so `QuotaAdmitted` is current. */
  gated?: boolean;
  /** The session's run with this number is over (no pod, none wanted): record that, once a live read confirms no pod is left. */
  endRun?: number;
  /** The session is past its retention period (stopped, no pod): delete it (with its home) after an Event saying this. */
  retire?: string;
  /** The status reports a start in its normal course: it is not written for this long (see start-settle.ts). */
  holdStatusMs?: number;
}

const UNKNOWN: Verdict = { status: 'Unknown', reason: 'NotChecked', message: 'Not checked yet.' };

function checkIdentity(fact: IdentityFact, s: AnalysisSession, config: OperatorConfig): Verdict {
  if (fact.kind === 'unavailable') return { status: 'Unknown', reason: 'DirectoryUnavailable', message: `The directory cannot be reached; the session waits and retries (${fact.message}).` };
  if (fact.kind === 'missing') return { status: 'False', reason: 'UserNotFound', message: `spec.user: "${s.spec.user}" does not exist in the facility directory; use the username the directory knows.` };
  const { uid, gid, invalid } = fact.identity;
  const min = config.directory.minId;
  if (invalid) return { status: 'False', reason: 'InvalidIdentity', message: `spec.user: the directory entry of "${s.spec.user}" cannot be trusted: ${invalid}; the directory's administrators must fix it.` };
  if (uid < min || gid < min) return { status: 'False', reason: 'InvalidIdentity', message: `spec.user: "${s.spec.user}" has uid ${uid}/gid ${gid} in the directory; sessions run only as uid and gid ${min} or higher.` };
  return { status: 'True', reason: 'Resolved', message: `Runs as uid ${uid}, gid ${gid}.` };
}

/** Directory groups the pod would get whose gid is below `directory.minId` (gid 0 included), as a refusal. */
function checkGrantedGids(s: AnalysisSession, id: PosixIdentity, access: AccessDecision, config: OperatorConfig, imageGroups: readonly number[]): Verdict | undefined {
  const min = config.directory.minId;
  const low = id.groups.filter((g) => g.gid < min && access.gids.includes(g.gid) && !imageGroups.includes(g.gid));
  if (low.length === 0) return undefined;
  const which = low.map((g) => `${g.name} (gid ${g.gid})`).join(', ');
  return { status: 'False', reason: 'InvalidIdentity', message: `spec.user: the directory group${low.length > 1 ? 's' : ''} ${which} of "${s.spec.user}" would grant access to the requested data, but sessions run only with groups of gid ${min} or higher; the directory's administrators must give the group a regular gid.` };
}

/** Decides the whole state of one session. */
export function decideSession(stored: AnalysisSession, facts: SessionFacts, config: OperatorConfig, now: number): SessionPlan {
  const s: AnalysisSession = { ...stored, status: typeof stored.status === 'object' && stored.status !== null ? { ...stored.status, conditions: storedConditions(stored) } : undefined };
  if (s.metadata.deletionTimestamp) return withQuotaStatus(s, facts.quota, facts.pod ?? facts.orphanPod, deletionPlan(s, facts, now), now);
  const live = facts.pod && !facts.pod.metadata?.deletionTimestamp ? facts.pod : undefined;
  const lifeFacts: SessionLifecycleFacts = { pod: live, proposal: facts.proposal ?? { kind: 'none' }, quota: facts.quota?.kind === 'governed' ? facts.quota.quota : undefined };
  const recorded = runStartOf(s, live);
  const life = sessionLifecycle(s, config, lifeFacts, now, recorded);
  if (life.stop) {
    // The first status without a pod records when the session stopped (retention counts from it).
    const stopped = facts.pod || s.status?.stoppedAt ? s : { ...s, status: { ...s.status, stoppedAt: formatTime(now) } };
    const plan = stoppedPlan(stopped, facts, config, stopped === s ? life : sessionLifecycle(stopped, config, lifeFacts, now, recorded), recorded, now);
    return withQuotaStatus(s, facts.quota, facts.pod, plan, now);
  }
  const decided = decideLive(s, facts, config, live, now, life.refusal);
  // A run starts when its pod is first created: that instant is recorded once (status.runStartedAt), and on the pod
  // (RUN_STARTED_AT_ANNOTATION) for the reconciles before that status is written or cached (see unrecordedStart).
  const creates = decided.apply.some((o) => o.kind === 'Pod');
  const runStart = recorded ?? (live ? unrecordedStart(live, now) : creates ? Math.floor(now / 1000) * 1000 : undefined);
  const plan = creates && runStart !== undefined ? { ...decided, apply: decided.apply.map((o) => (o.kind === 'Pod' ? withRunStart(o, runStart) : o)) } : decided;
  const current = runStart === recorded ? life : sessionLifecycle(s, config, lifeFacts, now, runStart);
  return settled(s, withQuotaStatus(s, facts.quota, facts.pod, withLifecycle(s, plan, current, runStart, now), now), live, facts, now);
}

/** `plan` with its status held while the start goes its normal course (see start-settle.ts), and a look again when that ends. */
function settled(s: AnalysisSession, plan: SessionPlan, live: V1Pod | undefined, facts: SessionFacts, now: number): SessionPlan {
  const hold = settleFor(s, plan.status, { pod: live, claim: facts.children?.PersistentVolumeClaim as V1PersistentVolumeClaim | undefined }, now);
  if (hold === undefined) return plan;
  return { ...plan, holdStatusMs: hold, requeueAfterMs: Math.min(plan.requeueAfterMs ?? Infinity, hold) };
}

/** `pod` annotated with the start of its run. */
function withRunStart(pod: KubeObject, runStart: number): KubeObject {
  return { ...pod, metadata: { ...pod.metadata, annotations: { ...pod.metadata?.annotations, [RUN_STARTED_AT_ANNOTATION]: formatTime(runStart) } } };
}

/** How far the pod's creation time may be from the operator's clock to stand for the start of its run. */
const CLOCK_AGREEMENT_MS = 5 * 60_000;

/**
 * How far the start a pod carries may be from the pod's creation by the apiserver: the operator
 * dates the run just before it sends the create, which a burst may hold back for a while.
 */
const RECORD_AGREEMENT_MS = 60_000;

/**
 * The start of a run whose pod exists but whose recorded start is not in the cached
 * status yet (not written yet, or a moment ago). The pod's creation, set by the apiserver,
 * is what counts; the instant the operator put on the pod (RUN_STARTED_AT_ANNOTATION) stands
 * for it only within {@link RECORD_AGREEMENT_MS} of it, because whoever may edit pods in the
 * namespace may edit that annotation too (a start dated ahead would stretch the run's
 * lifetime and shrink its GPU hours).
 * When the creation is far from the operator's clock (a testing clock; or an operator that
 * could not write the status for minutes), the annotation counts if it is not ahead of
 * now, else now.
 */
function unrecordedStart(pod: V1Pod, now: number): number {
  const annotated = Date.parse(String(pod.metadata?.annotations?.[RUN_STARTED_AT_ANNOTATION] ?? ''));
  const created = Date.parse(String(pod.metadata?.creationTimestamp ?? ''));
  if (Number.isFinite(created) && Math.abs(created - now) < CLOCK_AGREEMENT_MS) {
    return Number.isFinite(annotated) && Math.abs(annotated - created) <= RECORD_AGREEMENT_MS ? annotated : created;
  }
  return Number.isFinite(annotated) && annotated <= now ? annotated : Math.floor(now / 1000) * 1000;
}

function decideLive(s: AnalysisSession, facts: SessionFacts, config: OperatorConfig, live: V1Pod | undefined, now: number, lifetimeRefusal?: Refusal): SessionPlan {
  const problems = validateObject(s);
  const graceMs = parseDuration(config.proposals.revocationGracePeriod);
  const wantsRunning = s.spec?.state !== 'Stopped';
  /** While a running pod is held or in its grace period, its other children are still kept exact. */
  const kept = (plan: SessionPlan, request?: ResolvedRequest | Refusal): SessionPlan => {
    if (!live || !request || isRefusal(request)) return plan;
    const children = keptChildren(s, facts, config, request);
    return { ...plan, apply: [...children.apply, ...plan.apply], replace: [...children.replace, ...plan.replace] };
  };
  /** A definite refusal: a running pod gets the grace period, anything else waits refused. */
  const refuse = (status: AnalysisSessionStatus, verdicts: Array<[string, Verdict]>, refusal: Verdict, request?: ResolvedRequest | Refusal): SessionPlan =>
    live && wantsRunning ? kept(revokePlan(s, status, verdicts, refusal, live, graceMs, now), request) : refusedPlan(s, status, verdicts, refusal, now);
  if (problems.length > 0) {
    const refusal: Verdict = { status: 'False', reason: 'InvalidSpec', message: `The stored session is invalid: ${problems.slice(0, 5).map((p) => `${p.field}: ${p.message}`).join('; ')}` };
    return refuse({ observedGeneration: s.metadata.generation }, [[CONDITIONS.identity, UNKNOWN]], refusal);
  }
  const resolved = resolveRequest(s, config);
  const request = lifetimeRefusal && !isRefusal(resolved) ? lifetimeRefusal : resolved;
  const status = baseStatus(s, config, facts.identity, isRefusal(request) ? undefined : request);
  if (facts.conflicts && facts.conflicts.length > 0) return conflictPlan(s, status, facts, now);
  const idVerdict = checkIdentity(facts.identity, s, config);
  const verdicts: Array<[string, Verdict]> = [[CONDITIONS.identity, idVerdict]];
  if (idVerdict.status === 'Unknown') {
    return live ? kept(holdPlan(s, status, [...verdicts, [CONDITIONS.authorized, UNKNOWN]], live, now, 'The directory cannot be reached.'), request) : refusedPlan(s, status, [...verdicts, [CONDITIONS.authorized, UNKNOWN]], idVerdict, now, RETRY_MS);
  }
  if (idVerdict.status === 'False') return refuse(status, [...verdicts, [CONDITIONS.authorized, UNKNOWN]], idVerdict, request);
  if (isRefusal(request)) return refuse(status, [...verdicts, [CONDITIONS.authorized, UNKNOWN]], { status: 'False', ...request });
  const found = facts.identity as { identity: PosixIdentity; otherGroupNames?: string[] };
  const imageGroups = request.profile.imageGroups ?? [];
  const access = decideAccess(s, found.identity, facts.proposal ?? { kind: 'none' }, facts.datasets ?? new Map(), facts.availableDatasets ?? [], now, imageGroups, found.otherGroupNames ?? [], parseDuration(config.proposals.writeGraceAfterBeamtime));
  const withAccess: Array<[string, Verdict]> = [...verdicts, [CONDITIONS.authorized, access.authorized], [CONDITIONS.data, access.data]];
  if (access.outcome === 'wait') {
    return live && wantsRunning ? kept(holdPlan(s, status, withAccess, live, now, access.data.message), request) : refusedPlan(s, status, withAccess, access.data, now, RETRY_MS);
  }
  if (access.outcome === 'refuse') return refuse(status, withAccess, access.authorized, request);
  const lowGids = checkGrantedGids(s, found.identity, access, config, imageGroups);
  if (lowGids) return refuse(status, [[CONDITIONS.identity, lowGids], [CONDITIONS.authorized, UNKNOWN]], lowGids, request);
  const gate = quotaGate(s, facts.quota ?? { kind: 'unlimited' }, live, status, withAccess, now);
  if (!gate.go) return gate.plan;
  return { ...runningPlan(s, facts, config, request, found.identity, access, status, [...withAccess, [QUOTA_CONDITION, gate.verdict]], now), gated: true };
}
