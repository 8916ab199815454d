// SPDX-License-Identifier: Apache-2.0
/**
 * reconcileSession: gather → decide → apply → status, for one AnalysisSession key.
 * Idempotent and safe for any key at any time; writes nothing when nothing changed.
 *
 * Sessions carry the operator's finalizer: one being deleted has its pod stopped (and
 * only objects it owns touched) before the finalizer goes, so a delete, with any cascade
 * and any other finalizer, never lets a pod outlive its session's lifetime or access.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { AnalysisSession, AnalysisSessionStatus } from '../../api/v1alpha1/analysis-session.ts';
import type { OperatorConfig } from '../../config/schema.ts';
import type { ReconcileRequest } from '../../runtime/controller.ts';
import { done, requeueAfter } from '../../runtime/errors.ts';
import type { ReconcileResult } from '../../runtime/errors.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import type { KubeClient } from '../../runtime/kube.ts';
import { isConflict, isNotFound } from '../../runtime/kube-http.ts';
import { refOf } from '../../runtime/resource.ts';
import type { KubeObject } from '../../runtime/resource.ts';
import { CHILD_KINDS, childRefs, judgeChildren } from './children.ts';
import type { ChildKind } from './children.ts';
import { decideSession, SESSION_FINALIZER } from './decide.ts';
import type { SessionFacts, SessionPlan } from './decide.ts';
import { gatherChildren, gatherSessionFacts, recheckChildren } from './gather.ts';
import type { GatherDeps } from './gather.ts';
import { deletionPlan } from './plans.ts';
import { SESSION_FIELD_MANAGER, sessionRef } from './resources.ts';
import { eventsFor } from './events.ts';
import { formatTime } from '../../runtime/conditions.ts';
import { withQuotaStatus } from './quota-gate.ts';
import type { SessionReadyObserver } from './ready-metric.ts';
import { stopsWithoutDirectory } from '../../policy/lifecycle-session.ts';

export interface SessionDeps extends GatherDeps {
  kube: KubeClient;
  config: () => OperatorConfig;
  events: EventRecorder;
  now: () => number;
  session: (namespace: string, name: string) => AnalysisSession | undefined;
  /** Creates in flight of objects the sessions of a namespace share (see sharedCreate); optional. */
  sharedCreates?: Map<string, Promise<unknown>>;
  /** Told of every child the reconcile created, as the apiserver returned it (see recent-creates.ts); optional. */
  created?: (obj: KubeObject) => void;
  /** Told of every status the reconcile wrote or found applied already (the time-to-Ready histogram); optional. */
  readyMetric?: SessionReadyObserver;
}

/** Reconciles the session named by `req`. */
export async function reconcileSession(req: ReconcileRequest, deps: SessionDeps): Promise<ReconcileResult> {
  const session = deps.session(req.namespace!, req.name);
  if (!session) return done();
  if (session.metadata.deletionTimestamp) return finishDeletion(session, deps);
  // The finalizer patch goes out with the first reads; nothing is written before it is in place.
  const finalizer = addFinalizer(session, deps);
  finalizer.catch(() => undefined);
  const plan = await decideAndCarryOut(session, deps, finalizer);
  await endRun(session, plan, deps);
  // A start in its normal course is reported once it is over (Ready) or takes long (see start-settle.ts).
  if (plan.holdStatusMs === undefined || plan.endRun !== undefined) await writeStatus(session, plan.status, deps);
  if (plan.retire) return retire(session, plan.retire, deps);
  return plan.requeueAfterMs ? requeueAfter(plan.requeueAfterMs) : done();
}

/**
 * Decides from the cache and carries the plan out. A child the cache does not hold (it holds only objects with our
 * labels) is created, never applied: a name taken by an object we do not own, or by our own object applied a moment
 * ago, then answers 409 and nothing is written over it. On a 409 the names are read live and the plan is decided
 * again from what is there (a conflict, or our own child, whose Secret token is kept).
 */
async function decideAndCarryOut(session: AnalysisSession, deps: SessionDeps, finalizer: Promise<void>): Promise<SessionPlan> {
  const facts = await gatherSessionFacts(session, deps, (pod, quota) => stopsWithoutDirectory(session, deps.config(), pod, quota.kind === 'governed' ? quota.quota : undefined, deps.now()));
  // In a conflict every name is read, so the condition names each object in the way at once.
  if (facts.conflicts && facts.conflicts.length > 0) return decideLive(session, facts, deps, [...CHILD_KINDS], finalizer);
  const plan = decideSession(session, facts, deps.config(), deps.now());
  const unseen = new Set(plan.apply.map((o) => o.kind as ChildKind).filter((kind) => CHILD_KINDS.includes(kind) && !facts.children?.[kind]));
  await finalizer;
  try {
    await carryOut(plan, deps, unseen);
    return plan;
  } catch (err) {
    if (!isConflict(err) || unseen.size === 0) throw err;
    return decideLive(session, facts, deps, [...unseen], Promise.resolve());
  }
}

/** Reads the children of `kinds` live, decides again with what is there and carries that plan out (applies only). */
async function decideLive(session: AnalysisSession, facts: SessionFacts, deps: SessionDeps, kinds: readonly ChildKind[], finalizer: Promise<void>): Promise<SessionPlan> {
  const checked = await recheckChildren(session, facts, deps, kinds);
  const plan = decideSession(session, checked, deps.config(), deps.now());
  await finalizer;
  await carryOut(plan, deps);
  return plan;
}

/** Deletes, replaces, then applies `plan`; objects of the kinds in `create` are created instead (409 when the name is taken). */
async function carryOut(plan: SessionPlan, deps: SessionDeps, create: ReadonlySet<ChildKind> = new Set()): Promise<void> {
  for (const ref of plan.delete) {
    const { uid, ...target } = ref;
    if (uid) await deps.kube.delete(target, { preconditions: { uid } });
  }
  await Promise.all(plan.replace.map((obj) => deps.kube.replace(obj)));
  // The pod mounts the secret and the claims, and the namespace's NetworkPolicy must be in force before it runs:
  // those go first, together; then the pod.
  const options = { fieldManager: SESSION_FIELD_MANAGER };
  const write = async (obj: KubeObject) => {
    // A child created a moment ago is known from the create's answer before the cache shows it (deps.lookup).
    if (!create.has(obj.kind as ChildKind)) return deps.kube.apply(obj, { ...options, live: deps.lookup(refOf(obj)) });
    if (obj.kind === 'NetworkPolicy' && deps.sharedCreates) return sharedCreate(obj, deps.sharedCreates, () => deps.kube.createApplied(obj, options));
    const created = await deps.kube.createApplied(obj, options);
    if (created.written) deps.created?.(created.object);
    return created;
  };
  const last = (o: { kind?: string }) => o.kind === 'Pod';
  await settleAll(plan.apply.filter((o) => !last(o)).map((obj) => write(obj as KubeObject)));
  await settleAll(plan.apply.filter(last).map((obj) => write(obj as KubeObject)));
}

/**
 * The create of an object the sessions of a namespace share (its NetworkPolicy): reconciles that want it at the
 * same moment (a burst in a new namespace) wait for one request and share its answer, the object or the error.
 */
function sharedCreate<T>(obj: KubeObject, inflight: Map<string, Promise<T>>, create: () => Promise<T>): Promise<T> {
  const key = `${obj.kind}/${obj.metadata?.namespace}/${obj.metadata?.name}`;
  let pending = inflight.get(key);
  if (!pending) {
    pending = create().finally(() => inflight.delete(key));
    inflight.set(key, pending);
  }
  return pending;
}

/** Waits for every write, then rethrows the first failure (a 409 first, so the caller can read the names live). */
async function settleAll(writes: Array<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(writes);
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
  if (failures.length > 0) throw failures.find(isConflict) ?? failures[0];
}

/** Adds the operator's finalizer to a live session that lacks it (a `test` op guards against a stale view). */
async function addFinalizer(session: AnalysisSession, deps: SessionDeps): Promise<void> {
  const finalizers = session.metadata.finalizers ?? [];
  if (finalizers.includes(SESSION_FINALIZER)) return;
  const ops = finalizers.length === 0
    ? [{ op: 'test' as const, path: '/metadata/finalizers', value: null }, { op: 'add' as const, path: '/metadata/finalizers', value: [SESSION_FINALIZER] }]
    : [{ op: 'test' as const, path: '/metadata/finalizers', value: finalizers }, { op: 'add' as const, path: '/metadata/finalizers/-', value: SESSION_FINALIZER }];
  await deps.kube.jsonPatch(sessionRef(session), ops);
}

/**
 * A session being deleted: stop its pod, report `Deleting`, and once a live read shows no
 * pod of it is left, remove the operator's finalizer (only ours; others stay). Runs with
 * or without our finalizer, so a session held by someone else's finalizer still loses its pod.
 */
async function finishDeletion(session: AnalysisSession, deps: SessionDeps): Promise<ReconcileResult> {
  const children = await gatherChildren(session, deps, ['Pod']);
  const pod = (children.owned.Pod as V1Pod | undefined) ?? children.orphanPod;
  const fact = deps.quota(session.metadata.namespace!);
  const plan = withQuotaStatus(session, fact, pod, deletionPlan(session, { pod: children.owned.Pod as V1Pod | undefined, orphanPod: children.orphanPod }, deps.now()), deps.now());
  await carryOut(plan, deps);
  const index = (session.metadata.finalizers ?? []).indexOf(SESSION_FINALIZER);
  if (plan.release && index >= 0 && !(await podLeft(session, deps))) {
    await endRun(session, plan, deps);
    // The run's usage record is written and its reservation released by the quota controller first.
    const unreleased = fact.kind === 'governed' && fact.quota.status?.reservations?.some((r) => r.uid === session.metadata.uid);
    if (unreleased) plan.status.message = `The session is being deleted; its pod is stopped. Waiting for quota ${fact.quota.metadata.name} to record its usage.`;
    await writeStatus(session, plan.status, deps).catch(ignoreNotFound);
    if (unreleased) return requeueAfter(QUOTA_RELEASE_POLL_MS);
    await deps.kube.jsonPatch(sessionRef(session), [{ op: 'test', path: `/metadata/finalizers/${index}`, value: SESSION_FINALIZER }, { op: 'remove', path: `/metadata/finalizers/${index}` }]).catch(ignoreNotFound);
    return done();
  }
  await writeStatus(session, plan.status, deps).catch(ignoreNotFound);
  return plan.release ? done() : requeueAfter(plan.requeueAfterMs ?? 2000);
}

/**
 * Deletes a session past its retention period, after an Event that says so (the session's
 * home claim and Secret go with it: they are owned by it; the namespace's NetworkPolicy stays). The UID precondition
 * makes sure a session created again under the name is not deleted.
 */
async function retire(session: AnalysisSession, why: string, deps: SessionDeps): Promise<ReconcileResult> {
  deps.events.record({ regarding: session as KubeObject, action: 'Delete', type: 'Normal', reason: 'RetentionExpired', note: why });
  await deps.kube.delete(sessionRef(session), { preconditions: { uid: session.metadata.uid! } }).catch(ignoreNotFound);
  return done();
}

/** Look again this often while a deleted session's run waits to be released (the quota's change wakes it sooner). */
const QUOTA_RELEASE_POLL_MS = 10_000;

/**
 * A run the plan found over (`plan.endRun`): once a live read shows no pod of the session
 * is left, record it in `status.quota.doneRun`, so the quota controller may release it.
 */
async function endRun(session: AnalysisSession, plan: SessionPlan, deps: SessionDeps): Promise<void> {
  if (plan.endRun === undefined || plan.status.quota?.doneRun === plan.endRun) return;
  if (await podLeft(session, deps)) return;
  plan.status.quota = { ...plan.status.quota, doneRun: plan.endRun, endedAt: formatTime(deps.now()) };
}

/** The session may be gone by now (its last finalizer removed): nothing left to report. */
function ignoreNotFound(err: unknown): void {
  if (!isNotFound(err)) throw err;
}

/** A live read: does a pod of this session (its own, or its own orphaned) still exist? */
async function podLeft(session: AnalysisSession, deps: SessionDeps): Promise<boolean> {
  const pod = await deps.get(childRefs(session).Pod);
  const judged = judgeChildren(session, { Pod: pod });
  return judged.owned.Pod !== undefined || judged.orphanPod !== undefined;
}

async function writeStatus(session: AnalysisSession, status: AnalysisSessionStatus, deps: SessionDeps): Promise<void> {
  const outcome = await deps.kube.applyStatus(sessionRef(session), status, { fieldManager: SESSION_FIELD_MANAGER });
  deps.readyMetric?.(session, status, deps.now());
  if (!outcome.written) return;
  for (const event of eventsFor(session.status, status)) deps.events.record({ regarding: session as KubeObject, action: 'Reconcile', ...event });
}
