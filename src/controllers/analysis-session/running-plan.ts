// SPDX-License-Identifier: Apache-2.0
/**
 * The plan of a session that may run (pure): its objects, pod replacement on change,
 * and the status derived from the pod. Stop and expiry are decided before, by the
 * lifecycle (`policy/lifecycle.ts`, `plans.ts` `stoppedPlan`).
 */
import type { V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import type { AnalysisSession, AnalysisSessionStatus, SessionPhase } from '../../api/v1alpha1/analysis-session.ts';
import type { OperatorConfig } from '../../config/schema.ts';
import { sessionNames } from '../../desired/names.ts';
import { sessionUrl } from '../../desired/session-url.ts';
import { buildHomeClaim, buildSessionsNetworkPolicy, buildSessionSecret } from '../../desired/session-objects.ts';
import { buildSessionPod } from '../../desired/session-pod.ts';
import { partsOf, requestHash } from '../../desired/pod-inputs.ts';
import type { SessionInputs } from '../../desired/session-inputs.ts';
import type { PosixIdentity } from '../../identity/directory.ts';
import { setCondition } from '../../runtime/conditions.ts';
import type { Condition } from '../../runtime/conditions.ts';
import type { KubeObject } from '../../runtime/resource.ts';
import { judgePod, repairOf, restartPendingEntry } from './drift.ts';
import type { ChildKind } from './children.ts';
import type { AccessDecision } from './access.ts';
import type { DeleteRef, IdentityFact, SessionFacts, SessionPlan } from './decide.ts';
import { homeVolumeWait, homeVolumeWakeup, SCHEDULING } from './home-volume.ts';
import { observePod } from './observe-pod.ts';
import type { Verdict } from './observe-pod.ts';
import type { ResolvedRequest } from './request.ts';

export const CONDITIONS = { identity: 'IdentityResolved', authorized: 'Authorized', data: 'DataMounted', scheduled: 'Scheduled', ready: 'Ready' } as const;

/** The delete reference of `pod`, a pod of session `s`, with its UID as precondition. */
export function podRef(s: AnalysisSession, pod: V1Pod): DeleteRef {
  return { apiVersion: 'v1', kind: 'Pod', namespace: s.metadata.namespace!, name: sessionNames(s.metadata.name!).pod, uid: pod.metadata?.uid ?? '' };
}

/** The stored conditions with `entries` set (lastTransitionTime kept unless the status changes). */
export function withConditions(s: AnalysisSession, now: number, entries: Array<[string, Verdict]>): Condition[] {
  const generation = typeof s.metadata.generation === 'number' ? s.metadata.generation : undefined;
  let out = [...((s.status?.conditions as Condition[] | undefined) ?? [])];
  for (const [type, v] of entries) out = setCondition(out, { type, status: v.status, reason: v.reason, message: v.message, observedGeneration: generation }, now);
  return out;
}

/** Status fields known before looking at the pod. */
export function baseStatus(s: AnalysisSession, config: OperatorConfig, id: IdentityFact, r?: ResolvedRequest): AnalysisSessionStatus {
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
  status.url = sessionUrl(config.gateway, s.metadata.namespace!, s.metadata.name!);
  return status;
}

function inputsFor(s: AnalysisSession, r: ResolvedRequest, id: PosixIdentity, access: AccessDecision, config: OperatorConfig): SessionInputs {
  return {
    session: s, profile: r.profile, flavour: r.flavour, gpuCount: r.gpuCount, cpu: r.cpu, memory: r.memory, protocol: r.protocol, geometry: r.geometry,
    runAs: { user: id.user, uid: id.uid, gid: id.gid, supplementalGroups: access.gids },
    gateway: { namespace: config.gateway.namespace, podLabels: config.gateway.podLabels },
    egress: config.network.egress,
    images: config.images,
    home: { size: String(r.profile.homeSize ?? config.defaults.homeSize), storageClassName: config.defaults.homeStorageClassName },
    datasets: access.mounts,
    recipe: r.recipe,
  };
}

/**
 * The session's children other than the pod (Secret, home claim, and the namespace's NetworkPolicy),
 * which need no identity: compared exactly with what exists, and applied, or replaced
 * whole where they differ in what decides who reaches what. Used whenever the request
 * resolves, also while a running session is held or in its grace period.
 */
export function keptChildren(s: AnalysisSession, facts: SessionFacts, config: OperatorConfig, r: ResolvedRequest): Pick<SessionPlan, 'apply' | 'replace'> {
  const i = {
    session: s, protocol: r.protocol,
    gateway: { namespace: config.gateway.namespace, podLabels: config.gateway.podLabels },
    egress: config.network.egress,
    home: { size: String(r.profile.homeSize ?? config.defaults.homeSize), storageClassName: config.defaults.homeStorageClassName },
  };
  const policy = facts.namespaceUid ? [buildSessionsNetworkPolicy({ name: s.metadata.namespace!, uid: facts.namespaceUid }, i)] : [];
  const keep = [buildSessionSecret(s, facts.credentials), buildHomeClaim(i), ...policy] as KubeObject[];
  const repairs = keep.map((o) => repairOf(o, facts.children?.[o.kind as ChildKind]));
  return { apply: keep.filter((_, n) => !repairs[n]), replace: repairs.filter((o): o is KubeObject => o !== undefined) };
}

interface Summary {
  phase: SessionPhase;
  ready: Verdict;
  scheduled: Verdict;
}

function summarise(live: V1Pod | undefined, obs: ReturnType<typeof observePod>, stale: boolean, waiting: Verdict = SCHEDULING): Summary {
  if (stale) return { phase: 'Starting', scheduled: obs.scheduled, ready: { status: 'False', reason: 'Restarting', message: 'The session changed (request or data access); its pod is replaced.' } };
  // Before the pod exists (or while its home claim is bound) the session reads as the pod will right after: waiting to be placed.
  if (!live) return { phase: 'Pending', scheduled: waiting, ready: { ...waiting, status: 'False' } };
  if (obs.terminating) return { phase: 'Pending', scheduled: obs.scheduled, ready: { status: 'False', reason: 'PodCreating', message: 'The session pod is being created.' } };
  if (obs.ready.status === 'True') return { phase: 'Running', scheduled: obs.scheduled, ready: obs.ready };
  return { phase: obs.scheduled.status === 'True' ? 'Starting' : 'Pending', scheduled: obs.scheduled, ready: obs.ready };
}

/** The plan of a session whose request, identity and access are in order. */
export function runningPlan(s: AnalysisSession, facts: SessionFacts, config: OperatorConfig, r: ResolvedRequest, id: PosixIdentity, access: AccessDecision, status: AnalysisSessionStatus, verdicts: Array<[string, Verdict]>, now: number): SessionPlan {
  const inputs = inputsFor(s, r, id, access, config);
  const live = facts.pod;
  const obs = observePod(live, r.flavour, r.gpuCount);
  const plan: SessionPlan = { ...keptChildren(s, facts, config, r), delete: [], status };
  const homeClaim = facts.children?.PersistentVolumeClaim as V1PersistentVolumeClaim | undefined;
  const homeWait = !live ? homeVolumeWait(homeClaim, buildHomeClaim(inputs), facts.storageClasses, now) : undefined;
  // No pod without the namespace's NetworkPolicy in the plan (its owner, the Namespace, must be known).
  const create = !live && !homeWait && Boolean(facts.namespaceUid);
  // The pod is built only to be created (with its inputs record) or compared with the live one (whose hashes are made on demand).
  const pod = live !== undefined && !obs.terminating ? buildSessionPod(inputs, { record: false }) : create ? buildSessionPod(inputs) : undefined;
  const podVerdict = live !== undefined && pod ? judgePod(pod as KubeObject, live as KubeObject, { request: requestHash(s.spec), parts: () => partsOf(pod.spec!) }) : undefined;
  const stale = podVerdict?.replace === true;
  if (live && stale) plan.delete.push(podRef(s, live));
  if (create && pod) plan.apply.push(pod as KubeObject);
  const summary = summarise(live, obs, stale, homeWait);
  const wakeups: number[] = [];
  if (homeWait) wakeups.push(homeVolumeWakeup(homeClaim, now));
  if (!live && !facts.namespaceUid) wakeups.push(1000);
  // The run's first Ready, kept for the run (the lifetime counts from status.runStartedAt, see policy/lifecycle-session.ts).
  if (s.status?.startedAt) status.startedAt = s.status.startedAt;
  else if (summary.phase === 'Running' && obs.readySince) status.startedAt = obs.readySince;
  if (access.nextChangeMs !== undefined) wakeups.push(access.nextChangeMs);
  if (wakeups.length > 0) plan.requeueAfterMs = Math.max(1000, Math.min(...wakeups));
  if (obs.node) status.node = obs.node;
  // The image the running pod was made with, which a restart pending for a new profile image does not change yet.
  const runningImage = live && !stale ? live.spec?.containers?.find((c) => c.name === 'jupyter' || c.name === 'desktop')?.image : undefined;
  if (runningImage && runningImage !== status.image) {
    status.image = runningImage;
    delete status.imageDigest;
  }
  if (obs.imageDigest) status.imageDigest = obs.imageDigest;
  status.phase = summary.phase;
  status.message = summary.ready.message;
  status.conditions = withConditions(s, now, [...verdicts, [CONDITIONS.scheduled, summary.scheduled], [CONDITIONS.ready, summary.ready], ...restartPendingEntry(s.status?.conditions, stale ? undefined : podVerdict)]);
  return plan;
}
