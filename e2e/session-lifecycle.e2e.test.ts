// SPDX-License-Identifier: Apache-2.0
/**
 * The life of one session on any cluster, in order, as a portal sees it: create, Ready
 * with a URL under restricted Pod Security, stop, start, delete with every child gone.
 * Tests in a file run in order; on a failure it prints the session, its pod and the
 * namespace's Events.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { AnalysisSession } from '../src/api/v1alpha1/analysis-session.ts';
import { waitFor } from '../src/cluster/wait.ts';
import { bindOperator, E2E, kubeConfig, needsOperator } from './env.ts';
import { expectGone, isGone } from '../test/integration/gone.ts';

const G = { group: 'panalysis.io', version: 'v1alpha1', plural: 'analysissessions' };
const ns = `e2e-${process.pid}-${Date.now().toString(36)}`;
const name = 'lifecycle';
let stopOperator: (() => Promise<unknown>) | undefined;

const core = () => kubeConfig().makeApiClient(CoreV1Api);
const custom = () => kubeConfig().makeApiClient(CustomObjectsApi);
const session = async () => (await custom().getNamespacedCustomObject({ ...G, namespace: ns, name })) as AnalysisSession;
async function until(what: string, check: (s: AnalysisSession) => boolean): Promise<AnalysisSession> {
  let last: AnalysisSession | undefined;
  await waitFor(what, async () => check((last = await session())), 120_000);
  return last!;
}
async function patchState(state: 'Running' | 'Stopped'): Promise<void> {
  const s = await session();
  s.spec.state = state;
  await custom().replaceNamespacedCustomObject({ ...G, namespace: ns, name, body: s });
}

beforeAll(async () => {
  if (needsOperator()) {
    const { startOperator } = await import('../test/integration/operator.ts');
    const op = await startOperator();
    stopOperator = () => op.stop();
  }
  await core().createNamespace({ body: { metadata: { name: ns, labels: { 'panalysis.io/proposal': E2E.proposal, 'pod-security.kubernetes.io/enforce': 'restricted' } } } });
  await waitFor('the default ServiceAccount', () => core().readNamespacedServiceAccount({ name: 'default', namespace: ns }).then(() => true), 60_000);
  if (!needsOperator()) await bindOperator(ns);
}, 120_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state !== 'fail') return;
  const dump = { session: await session().catch((e: unknown) => String(e)), pod: await core().readNamespacedPod({ name, namespace: ns }).catch((e: unknown) => String(e)), events: (await core().listNamespacedEvent({ namespace: ns })).items.map((e) => `${e.type} ${e.reason} ${e.involvedObject.kind}/${e.involvedObject.name}: ${e.message}`) };
  console.error(`[e2e] state after the failure:\n${JSON.stringify(dump, null, 2)}`);
});

afterAll(async () => {
  // Best effort, and before the operator stops, so nothing of this suite is left on the cluster.
  await core().deleteNamespace({ name: ns }).catch(() => undefined);
  await waitFor(`namespace ${ns} to be deleted`, () => isGone(() => core().readNamespace({ name: ns })), 60_000).catch((err: Error) => console.error(`[e2e] ${err.message}`));
  await stopOperator?.();
}, 120_000);

describe('session lifecycle', () => {
  it('creates a session that becomes Ready with a URL', async () => {
    const body = { apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', metadata: { name }, spec: { user: E2E.user, type: 'jupyter', profile: E2E.profile } };
    await custom().createNamespacedCustomObject({ ...G, namespace: ns, body });
    const s = await until('Running', (x) => x.status?.phase === 'Running');
    expect(s.status?.url).toMatch(new RegExp(`/s/${ns}/${name}/$`));
    expect(s.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('runs a pod that the restricted Pod Security profile admitted, as the user', async () => {
    const pod = await core().readNamespacedPod({ name, namespace: ns });
    expect(pod.spec?.securityContext?.runAsNonRoot).toBe(true);
    expect(pod.spec?.securityContext?.runAsUser).toBe((await session()).status?.identity?.uid);
    expect(pod.spec?.automountServiceAccountToken).toBe(false);
  });

  it('stops, keeping home and credentials, and starts again', async () => {
    await patchState('Stopped');
    await until('Stopped', (x) => x.status?.phase === 'Stopped');
    await expectGone(core().readNamespacedPod({ name, namespace: ns }), 'the pod of a stopped session');
    await core().readNamespacedPersistentVolumeClaim({ name: `${name}-home`, namespace: ns });
    await core().readNamespacedSecret({ name: `${name}-credentials`, namespace: ns });
    await patchState('Running');
    await until('Running again', (x) => x.status?.phase === 'Running');
  });

  it('deletes the session and every child', async () => {
    await custom().deleteNamespacedCustomObject({ ...G, namespace: ns, name });
    await waitFor('the children to be gone', async () => {
      const [pods, svcs, secrets, pvcs] = await Promise.all([
        core().listNamespacedPod({ namespace: ns }), core().listNamespacedService({ namespace: ns }),
        core().listNamespacedSecret({ namespace: ns, labelSelector: 'app.kubernetes.io/managed-by=panalysis' }), core().listNamespacedPersistentVolumeClaim({ namespace: ns }),
      ]);
      return [pods, svcs, secrets, pvcs].every((l) => l.items.length === 0);
    }, 120_000);
    await waitFor('the session to be gone', () => isGone(session), 120_000);
  });
});
