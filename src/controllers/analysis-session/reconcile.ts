// SPDX-License-Identifier: Apache-2.0
/**
 * reconcileSession: gather → decide → apply → status, for one AnalysisSession key.
 * Idempotent and safe for any key at any time; writes nothing when nothing changed.
 */
import type { AnalysisSession, AnalysisSessionStatus } from '../../api/v1alpha1/analysis-session.ts';
import type { OperatorConfig } from '../../config/schema.ts';
import type { ReconcileRequest } from '../../runtime/controller.ts';
import { done, requeueAfter } from '../../runtime/errors.ts';
import type { ReconcileResult } from '../../runtime/errors.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import type { KubeClient } from '../../runtime/kube.ts';
import type { KubeObject } from '../../runtime/resource.ts';
import { decideSession } from './decide.ts';
import { gatherSessionFacts } from './gather.ts';
import type { GatherDeps } from './gather.ts';
import { SESSION_FIELD_MANAGER, sessionRef } from './resources.ts';
import { eventFor } from './events.ts';

export interface SessionDeps extends GatherDeps {
  kube: KubeClient;
  config: () => OperatorConfig;
  events: EventRecorder;
  now: () => number;
  session: (namespace: string, name: string) => AnalysisSession | undefined;
}

/** Reconciles the session named by `req`. */
export async function reconcileSession(req: ReconcileRequest, deps: SessionDeps): Promise<ReconcileResult> {
  const session = deps.session(req.namespace!, req.name);
  if (!session || session.metadata.deletionTimestamp) return done(); // children go with it (garbage collection)
  const facts = await gatherSessionFacts(session, deps);
  const plan = decideSession(session, facts, deps.config(), deps.now());
  for (const ref of plan.delete) await deps.kube.delete(ref, { preconditions: { uid: deps.lookup(ref)?.metadata?.uid } });
  // Children are independent of each other except the pod, which mounts the secret and the claims: apply the
  // others together, then the pod.
  const pods = plan.apply.filter((o) => o.kind === 'Pod');
  await Promise.all(plan.apply.filter((o) => o.kind !== 'Pod').map((obj) => deps.kube.apply(obj as KubeObject, { fieldManager: SESSION_FIELD_MANAGER })));
  for (const obj of pods) await deps.kube.apply(obj as KubeObject, { fieldManager: SESSION_FIELD_MANAGER });
  await writeStatus(session, plan.status, deps);
  return plan.requeueAfterMs ? requeueAfter(plan.requeueAfterMs) : done();
}

async function writeStatus(session: AnalysisSession, status: AnalysisSessionStatus, deps: SessionDeps): Promise<void> {
  const outcome = await deps.kube.applyStatus(sessionRef(session), status, { fieldManager: SESSION_FIELD_MANAGER });
  const event = eventFor(session.status, status);
  if (outcome.written && event) deps.events.record({ regarding: session as KubeObject, action: 'Reconcile', ...event });
}
