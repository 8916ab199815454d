// SPDX-License-Identifier: Apache-2.0
/**
 * decideSession: from a session, the facts gathered about it and the time, the objects
 * it should have, what to delete, its status and when to look again. Pure and total:
 * it never throws on a stored object, whatever it contains.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { AnalysisSession, AnalysisSessionStatus, SessionPhase } from '../../api/v1alpha1/analysis-session.ts';
import type { OperatorConfig } from '../../config/schema.ts';
import type { PosixIdentity } from '../../identity/directory.ts';
import { sessionNames, sessionPath } from '../../desired/names.ts';
import { buildHomeClaim, buildSessionNetworkPolicy, buildSessionSecret, buildSessionService } from '../../desired/session-objects.ts';
import type { SessionCredentials } from '../../desired/session-objects.ts';
import { buildSessionPod, POD_SPEC_HASH } from '../../desired/session-pod.ts';
import type { SessionInputs } from '../../desired/session-inputs.ts';
import { setCondition } from '../../runtime/conditions.ts';
import type { Condition } from '../../runtime/conditions.ts';
import type { KubeObject, ObjectRef } from '../../runtime/resource.ts';
import { validateObject } from '../../api/validate.ts';
import { observePod } from './observe-pod.ts';
import type { Verdict } from './observe-pod.ts';
import { isRefusal, resolveRequest } from './request.ts';
import type { Refusal, ResolvedRequest } from './request.ts';

/** What the directory said about the session's user. */
export type IdentityFact = { kind: 'found'; identity: PosixIdentity } | { kind: 'missing' } | { kind: 'unavailable'; message: string };

export interface SessionFacts {
  identity: IdentityFact;
  credentials: SessionCredentials;
  /** The live pod from the cache, if any. */
  pod?: V1Pod;
}

export interface SessionPlan {
  apply: KubeObject[];
  delete: ObjectRef[];
  status: AnalysisSessionStatus;
  /** Look again after this long (lifetime end, directory retry); undefined: on change only. */
  requeueAfterMs?: number;
}

export const CONDITIONS = { identity: 'IdentityResolved', scheduled: 'Scheduled', ready: 'Ready' } as const;
const DIRECTORY_RETRY_MS = 30_000;

function podRef(s: AnalysisSession): ObjectRef {
  return { apiVersion: 'v1', kind: 'Pod', namespace: s.metadata.namespace!, name: sessionNames(s.metadata.name!).pod };
}

function checkIdentity(fact: IdentityFact, s: AnalysisSession, config: OperatorConfig): Verdict {
  if (fact.kind === 'unavailable') return { status: 'Unknown', reason: 'DirectoryUnavailable', message: `The directory cannot be reached; the session waits and retries (${fact.message}).` };
  if (fact.kind === 'missing') return { status: 'False', reason: 'UserNotFound', message: `spec.user: "${s.spec.user}" does not exist in the facility directory; use the username the directory knows.` };
  const { uid, gid } = fact.identity;
  const min = config.directory.minId;
  if (uid < min || gid < min) return { status: 'False', reason: 'InvalidIdentity', message: `spec.user: "${s.spec.user}" has uid ${uid}/gid ${gid} in the directory; sessions run only as uid and gid ${min} or higher.` };
  return { status: 'True', reason: 'Resolved', message: `Runs as uid ${uid}, gid ${gid}.` };
}

function inputsFor(s: AnalysisSession, r: ResolvedRequest, id: PosixIdentity, config: OperatorConfig): SessionInputs {
  return {
    session: s, profile: r.profile, flavour: r.flavour, gpuCount: r.gpuCount, cpu: r.cpu, memory: r.memory, protocol: r.protocol, geometry: r.geometry,
    runAs: { user: id.user, uid: id.uid, gid: id.gid, supplementalGroups: [...new Set(r.profile.imageGroups ?? [])].sort((a, b) => a - b) },
    gateway: { namespace: config.gateway.namespace, podLabels: config.gateway.podLabels },
    images: config.images,
    home: { size: String(r.profile.homeSize ?? config.defaults.homeSize), storageClassName: config.defaults.homeStorageClassName },
    datasets: [],
  };
}

interface Summary {
  phase: SessionPhase;
  ready: Verdict;
  scheduled: Verdict;
}

function conditionsOf(prev: readonly Condition[] | undefined, gen: number | undefined, now: number, entries: Array<[string, Verdict]>): Condition[] {
  let out = [...(prev ?? [])] as Condition[];
  for (const [type, v] of entries) out = setCondition(out, { type, status: v.status, reason: v.reason, message: v.message, observedGeneration: gen }, now);
  return out;
}

function baseStatus(s: AnalysisSession, config: OperatorConfig, id: IdentityFact, r?: ResolvedRequest): AnalysisSessionStatus {
  const status: AnalysisSessionStatus = { observedGeneration: s.metadata.generation };
  if (id.kind === 'found') {
    status.identity = { uid: id.identity.uid, gid: id.identity.gid, groups: id.identity.groups.map((g) => g.gid), groupNames: id.identity.groups.map((g) => g.name) };
  }
  if (r) {
    status.image = r.profile.image;
    const pinned = /@(sha256:[a-f0-9]{64})$/.exec(r.profile.image);
    if (pinned) status.imageDigest = pinned[1];
    if (r.flavour) status.gpu = `${r.gpuCount}x ${r.flavour.name}`;
  }
  status.url = `${config.gateway.baseUrl.replace(/\/$/, '')}${sessionPath(s.metadata.namespace!, s.metadata.name!)}`;
  return status;
}

function refusedPlan(s: AnalysisSession, status: AnalysisSessionStatus, idVerdict: Verdict, refusal: Refusal | Verdict, now: number, retryMs?: number): SessionPlan {
  const waiting: Verdict = { status: refusal === idVerdict && idVerdict.status === 'Unknown' ? 'Unknown' : 'False', reason: refusal.reason, message: refusal.message };
  const generation = typeof s.metadata.generation === 'number' ? s.metadata.generation : undefined;
  const unknown: Verdict = { status: 'Unknown', reason: 'NotStarted', message: 'The session pod is not created until the request is valid.' };
  status.phase = retryMs ? 'Pending' : 'Failed';
  status.message = refusal.message;
  status.conditions = conditionsOf(s.status?.conditions as Condition[] | undefined, generation, now, [[CONDITIONS.identity, idVerdict], [CONDITIONS.scheduled, unknown], [CONDITIONS.ready, waiting]]);
  return { apply: [], delete: [], status, requeueAfterMs: retryMs };
}

/** Conditions of a stored status that look like conditions; anything else is dropped. */
function storedConditions(s: AnalysisSession): Condition[] {
  const list = (s.status as { conditions?: unknown } | undefined)?.conditions;
  if (!Array.isArray(list)) return [];
  return list.filter((c): c is Condition => typeof c === 'object' && c !== null && typeof c.type === 'string' && typeof c.status === 'string' && typeof c.lastTransitionTime === 'string');
}

/** Decides the whole state of one session. */
export function decideSession(stored: AnalysisSession, facts: SessionFacts, config: OperatorConfig, now: number): SessionPlan {
  const s: AnalysisSession = { ...stored, status: typeof stored.status === 'object' && stored.status !== null ? { ...stored.status, conditions: storedConditions(stored) } : undefined };
  const problems = validateObject(s);
  if (problems.length > 0) {
    const message = `The stored session is invalid: ${problems.slice(0, 5).map((p) => `${p.field}: ${p.message}`).join('; ')}`;
    const verdict: Verdict = { status: 'False', reason: 'InvalidSpec', message };
    return refusedPlan(s, { observedGeneration: s.metadata.generation }, { status: 'Unknown', reason: 'NotChecked', message: 'The session spec is invalid.' }, verdict, now);
  }
  const idVerdict = checkIdentity(facts.identity, s, config);
  const request = resolveRequest(s, config);
  const status = baseStatus(s, config, facts.identity, isRefusal(request) ? undefined : request);
  if (idVerdict.status !== 'True') return refusedPlan(s, status, idVerdict, idVerdict, now, facts.identity.kind === 'unavailable' ? DIRECTORY_RETRY_MS : undefined);
  if (isRefusal(request)) return refusedPlan(s, status, idVerdict, request, now);
  const identity = (facts.identity as { identity: PosixIdentity }).identity;
  const inputs = inputsFor(s, request, identity, config);
  return decideRunning(s, facts, inputs, request, status, idVerdict, now);
}

function decideRunning(s: AnalysisSession, facts: SessionFacts, inputs: SessionInputs, r: ResolvedRequest, status: AnalysisSessionStatus, idVerdict: Verdict, now: number): SessionPlan {
  const keep = [buildSessionSecret(s, facts.credentials), buildHomeClaim(inputs), buildSessionService(inputs), buildSessionNetworkPolicy(inputs)] as KubeObject[];
  const pod = buildSessionPod(inputs);
  const live = facts.pod;
  const stopped = s.spec.state === 'Stopped';
  const previousExpiry = s.status?.expiresAt ? Date.parse(s.status.expiresAt) : undefined;
  const expired = !stopped && previousExpiry !== undefined && s.status?.phase !== 'Stopped' && now >= previousExpiry;
  const obs = observePod(live, r.flavour, r.gpuCount);
  const plan: SessionPlan = { apply: keep, delete: [], status };
  const wantPod = !stopped && !expired;
  const stale = live && !obs.terminating && live.metadata?.annotations?.[POD_SPEC_HASH] !== pod.metadata!.annotations![POD_SPEC_HASH];
  if (live && !obs.terminating && (!wantPod || stale)) plan.delete.push(podRef(s));
  if (wantPod && !live) plan.apply.push(pod as KubeObject);
  const summary = summarise(wantPod, expired, live, obs, stale === true);
  if (summary.phase === 'Running' && obs.readySince) {
    status.startedAt = obs.readySince;
    status.expiresAt = new Date(Date.parse(obs.readySince) + r.lifetimeMs).toISOString().replace('.000Z', 'Z');
    plan.requeueAfterMs = Math.max(1000, Date.parse(status.expiresAt) - now);
  } else if (expired) {
    status.startedAt = s.status?.startedAt;
    status.expiresAt = s.status?.expiresAt;
  }
  if (obs.node) status.node = obs.node;
  if (obs.imageDigest) status.imageDigest = obs.imageDigest;
  status.phase = summary.phase;
  status.message = summary.ready.message;
  status.conditions = conditionsOf(s.status?.conditions as Condition[] | undefined, s.metadata.generation, now, [[CONDITIONS.identity, idVerdict], [CONDITIONS.scheduled, summary.scheduled], [CONDITIONS.ready, summary.ready]]);
  return plan;
}

function summarise(wantPod: boolean, expired: boolean, live: V1Pod | undefined, obs: ReturnType<typeof observePod>, stale: boolean): Summary {
  const idle: Verdict = { status: 'False', reason: 'NotScheduled', message: 'No pod is running.' };
  if (!wantPod) {
    const reason = expired ? 'LifetimeExpired' : 'Stopped';
    const message = expired ? 'The session reached the end of its lifetime and was stopped; set spec.state to Stopped and back to Running to start it again.' : 'The session is stopped; its home and credentials are kept. Set spec.state: Running to start it again.';
    if (live) return { phase: 'Stopping', scheduled: obs.scheduled, ready: { status: 'False', reason: 'Stopping', message: 'The session pod is shutting down.' } };
    return { phase: expired ? 'Expired' : 'Stopped', scheduled: idle, ready: { status: 'False', reason, message } };
  }
  if (stale) return { phase: 'Starting', scheduled: obs.scheduled, ready: { status: 'False', reason: 'Restarting', message: 'The session changed; its pod is replaced.' } };
  if (!live || obs.terminating) return { phase: 'Pending', scheduled: obs.scheduled, ready: { status: 'False', reason: 'PodCreating', message: 'The session pod is being created.' } };
  if (obs.ready.status === 'True') return { phase: 'Running', scheduled: obs.scheduled, ready: obs.ready };
  return { phase: obs.scheduled.status === 'True' ? 'Starting' : 'Pending', scheduled: obs.scheduled, ready: obs.ready };
}
