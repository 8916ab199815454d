// SPDX-License-Identifier: Apache-2.0
/**
 * The session controller against the real local control plane: sessions become pods
 * that the real scheduler places and kwok makes Ready, in a namespace where the
 * apiserver enforces the restricted Pod Security profile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { apiErrorMessage, core, freshNamespace, kubeConfig, waitFor } from './helpers.ts';
import { startOperator } from './operator.ts';
import type { OperatorProcess } from './operator.ts';
import { createSession, deleteSession, getSession, isPhase, patchSession, readyReason, waitSession } from './sessions.ts';
import { NetworkingV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { deleteFreshNamespaces } from './cleanup.ts';
import { expectGone, isGone } from './gone.ts';
import { settled, writesDuringPasses } from './settle.ts';

let ns: string;
let operator: OperatorProcess;

beforeAll(async () => {
  ns = await freshNamespace('sess', { 'panalysis.io/proposal': '20231234', 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' });
  operator = await startOperator({ resyncSeconds: 2 });
});
afterAll(async () => {
  await deleteFreshNamespaces();
  await operator?.stop();
});

const pod = (name: string) => core().readNamespacedPod({ name, namespace: ns });

describe('AnalysisSession controller', () => {
  it.each([
    ['a JupyterLab session', 'nb', { type: 'jupyter', profile: 'jupyter-scipy' }, ['jupyter'], 8888],
    ['a noVNC desktop', 'vnc', { type: 'desktop', profile: 'desktop-xfce', desktop: { protocol: 'vnc' } }, ['desktop', 'websockify'], 6080],
    ['a Guacamole desktop', 'guac', { type: 'desktop', profile: 'desktop-xfce', desktop: { protocol: 'guacamole' } }, ['desktop', 'guacd'], 4822],
  ] as const)('turns %s into its objects and reaches Ready with a URL, under restricted Pod Security', async (_what, name, spec, containers, port) => {
    await createSession(ns, name, { user: 'alice', ...spec } as never);
    const s = await waitSession(ns, name, 'Running', isPhase('Running'));
    expect(s.status?.url).toBe(`http://${name}--${ns}.sessions.localhost:8080/s/${ns}/${name}/`);
    expect(s.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', observedGeneration: 1 });
    expect(s.status?.identity).toMatchObject({ uid: 20001, gid: 20001 });
    const p = await pod(name);
    expect(p.spec?.containers.map((c) => c.name)).toEqual(containers);
    expect(p.spec?.securityContext).toMatchObject({ runAsUser: 20001, runAsGroup: 20001, runAsNonRoot: true });
    expect(p.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'AnalysisSession', name, controller: true });
    expect(await isGone(() => core().readNamespacedService({ name, namespace: ns })), 'no Service: the gateway connects to the pod\'s IP').toBe(true);
    expect(p.status?.podIP).toBeTruthy();
    const secret = await core().readNamespacedSecret({ name: `${name}-credentials`, namespace: ns });
    expect(Object.keys(secret.data ?? {})).toEqual([spec.type === 'jupyter' ? 'token' : 'vnc-password']);
    // One NetworkPolicy for the namespace's sessions, controlled by the Namespace: it selects this pod and admits the gateway on its port.
    const np = await kubeConfig().makeApiClient(NetworkingV1Api).readNamespacedNetworkPolicy({ name: 'panalysis-sessions', namespace: ns });
    const namespaceUid = (await core().readNamespace({ name: ns })).metadata?.uid;
    expect(np.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'Namespace', name: ns, uid: namespaceUid, controller: true })]);
    expect(Object.entries(np.spec?.podSelector?.matchLabels ?? {}).every(([k, v]) => p.metadata?.labels?.[k] === v)).toBe(true);
    expect(np.spec?.ingress?.[0]?.ports?.map((x) => x.port)).toContain(port);
    expect(await isGone(() => kubeConfig().makeApiClient(NetworkingV1Api).readNamespacedNetworkPolicy({ name, namespace: ns })), 'no NetworkPolicy per session').toBe(true);
    const pvc = await core().readNamespacedPersistentVolumeClaim({ name: `${name}-home`, namespace: ns });
    expect(pvc.status?.phase).toBe('Bound');
  });

  it('is refused by the apiserver itself when a pod would break the restricted profile', async () => {
    const bad: V1Pod = { metadata: { name: 'rooty' }, spec: { containers: [{ name: 'c', image: 'x', securityContext: { runAsUser: 0 } }] } };
    const refusal = await core().createNamespacedPod({ namespace: ns, body: bad }).then(() => '', apiErrorMessage);
    expect(refusal).toMatch(/violates PodSecurity "restricted:latest"/);
  });

  it('places a GPU session on a GPU node with the flavour resource', async () => {
    await createSession(ns, 'gpu1', { user: 'bob', type: 'jupyter', profile: 'jupyter-scipy', resources: { gpu: { flavour: 'a100-1g', count: 2 } } });
    const s = await waitSession(ns, 'gpu1', 'Running', isPhase('Running'));
    expect(s.status?.node).toBe('kwok-gpu-mig-0');
    expect(s.status?.gpu).toBe('2x a100-1g');
    const p = await pod('gpu1');
    expect(p.spec?.containers[0]?.resources?.limits).toMatchObject({ 'nvidia.com/mig-1g.10gb': '2' });
  });

  it('waits with a reason that names the cause when no GPU is free, and starts when one is released', async () => {
    await createSession(ns, 'gpu-a', { user: 'bob', type: 'jupyter', profile: 'jupyter-scipy', resources: { gpu: { flavour: 'a100', count: 4 } } });
    await createSession(ns, 'gpu-b', { user: 'bob', type: 'jupyter', profile: 'jupyter-scipy', resources: { gpu: { flavour: 'a100', count: 4 } } });
    await waitSession(ns, 'gpu-a', 'Running', isPhase('Running'));
    await waitSession(ns, 'gpu-b', 'Running', isPhase('Running'));
    await createSession(ns, 'gpu-c', { user: 'bob', type: 'jupyter', profile: 'jupyter-scipy', resources: { gpu: { flavour: 'a100', count: 1 } } });
    const waiting = await waitSession(ns, 'gpu-c', 'waiting for a GPU', (s) => readyReason(s) === 'NoGpuAvailable');
    expect(waiting.status?.phase).toBe('Pending');
    expect(waiting.status?.message).toMatch(/Waiting for 1 free NVIDIA A100 80GB GPU \(flavour a100\)/);
    expect(waiting.status?.conditions?.find((c) => c.type === 'Scheduled')).toMatchObject({ status: 'False', reason: 'NoGpuAvailable' });
    await deleteSession(ns, 'gpu-a');
    const started = await waitSession(ns, 'gpu-c', 'Running', isPhase('Running'));
    expect(started.status?.node).toMatch(/^kwok-gpu-a100-/);
    await deleteSession(ns, 'gpu-b');
  });

  it('refuses bad requests with a condition that names the field and the allowed values', async () => {
    await createSession(ns, 'bad-profile', { user: 'alice', type: 'jupyter', profile: 'matlab' });
    await createSession(ns, 'bad-flavour', { user: 'alice', type: 'desktop', profile: 'desktop-xfce', resources: { gpu: { flavour: 'a100-1g', count: 1 } } });
    await createSession(ns, 'bad-cpu', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy', resources: { cpu: 64 } });
    await createSession(ns, 'bad-user', { user: 'rooty', type: 'jupyter', profile: 'jupyter-scipy' });
    const cases: Array<[string, string, RegExp]> = [
      ['bad-profile', 'UnknownProfile', /spec\.profile: unknown profile "matlab"; profiles for jupyter sessions: jupyter-scipy/],
      ['bad-flavour', 'GpuFlavourNotAllowed', /spec\.resources\.gpu\.flavour: "a100-1g" is not offered with profile desktop-xfce; allowed flavours: a100/],
      ['bad-cpu', 'ResourcesTooHigh', /spec\.resources\.cpu: 64 exceeds the limit 16/],
      ['bad-user', 'InvalidIdentity', /uid 0\/gid 0/],
    ];
    for (const [name, reason, message] of cases) {
      const s = await waitSession(ns, name, reason, (x) => readyReason(x) === reason);
      expect(s.status?.phase).toBe('Failed');
      expect(s.status?.message).toMatch(message);
      await expectGone(pod(name), `pod ${name}`);
    }
    const events = await core().listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=bad-cpu' });
    expect(events.items.map((e) => e.reason)).toContain('ResourcesTooHigh');
  });

  it('converges when a session is edited: the pod is replaced with the new request', async () => {
    await createSession(ns, 'edit', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy' });
    await waitSession(ns, 'edit', 'Running', isPhase('Running'));
    const before = (await pod('edit')).metadata!.uid;
    await patchSession(ns, 'edit', { resources: { cpu: 4, memory: '16Gi' } });
    await waitFor('the pod to be replaced', async () => (await pod('edit').catch(() => undefined))?.metadata?.uid !== before && (await pod('edit').catch(() => undefined)) !== undefined, 60_000);
    const s = await waitSession(ns, 'edit', 'Running at generation 2', (x) => isPhase('Running')(x) && x.status?.observedGeneration === 2);
    expect(s.status?.conditions?.every((c) => c.observedGeneration === 2)).toBe(true);
    expect((await pod('edit')).spec?.containers[0]?.resources?.requests).toMatchObject({ cpu: '4', memory: '16Gi' });
  });

  it('stops and starts again: Stopped deletes the pod and keeps home and credentials', async () => {
    await createSession(ns, 'pause', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy' });
    await waitSession(ns, 'pause', 'Running', isPhase('Running'));
    const secret = (await core().readNamespacedSecret({ name: 'pause-credentials', namespace: ns })).data;
    await patchSession(ns, 'pause', { state: 'Stopped' });
    await waitSession(ns, 'pause', 'Stopped', isPhase('Stopped'));
    await expectGone(pod('pause'), 'pod pause');
    expect((await core().readNamespacedPersistentVolumeClaim({ name: 'pause-home', namespace: ns })).status?.phase).toBe('Bound');
    await patchSession(ns, 'pause', { state: 'Running' });
    await waitSession(ns, 'pause', 'Running', isPhase('Running'));
    expect((await core().readNamespacedSecret({ name: 'pause-credentials', namespace: ns })).data).toEqual(secret);
  });

  it('restores a child that was deleted or hand-edited, and keeps the session isolated', async () => {
    await createSession(ns, 'heal', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy' });
    await waitSession(ns, 'heal', 'Running', isPhase('Running'));
    const net = kubeConfig().makeApiClient(NetworkingV1Api);
    const policy = { name: 'panalysis-sessions', namespace: ns };
    const np = await net.readNamespacedNetworkPolicy(policy);
    expect(np.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec?.egress?.[1]?.to?.[0]?.ipBlock).toMatchObject({ cidr: '0.0.0.0/0', except: expect.arrayContaining(['10.0.0.0/8', '169.254.0.0/16']) });
    // It has no session as owner: its deletion alone must bring a session's reconcile that puts it back.
    await net.deleteNamespacedNetworkPolicy(policy);
    await waitFor('the NetworkPolicy to be recreated', () => net.readNamespacedNetworkPolicy(policy).then((x) => x.metadata?.uid !== np.metadata?.uid, () => false), 30_000);
    const wanted = (await net.readNamespacedNetworkPolicy(policy)).spec?.ingress;
    expect(wanted).toEqual(np.spec?.ingress);
    await net.patchNamespacedNetworkPolicy({ ...policy, body: [{ op: 'add', path: '/spec/ingress/-', value: { from: [{ podSelector: {} }] } }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    await waitFor('the extra ingress rule to be removed', async () => (await net.readNamespacedNetworkPolicy(policy)).spec?.ingress?.length === wanted?.length, 30_000);
    expect((await net.readNamespacedNetworkPolicy(policy)).spec?.ingress).toEqual(wanted);
  });

  it('makes zero writes on resync and after a restart when nothing changed', async () => {
    // Sessions of every kind this test relies on, whatever else ran before it.
    await createSession(ns, 'quiet-nb', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy' });
    await createSession(ns, 'quiet-desk', { user: 'bob', type: 'desktop', profile: 'desktop-xfce', desktop: { protocol: 'guacamole' } });
    await createSession(ns, 'quiet-stopped', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy', state: 'Stopped' });
    await createSession(ns, 'quiet-refused', { user: 'alice', type: 'jupyter', profile: 'matlab' });
    await waitSession(ns, 'quiet-nb', 'Running', isPhase('Running'));
    await waitSession(ns, 'quiet-desk', 'Running', isPhase('Running'));
    await waitSession(ns, 'quiet-stopped', 'Stopped', isPhase('Stopped'));
    await waitSession(ns, 'quiet-refused', 'refused', (s) => readyReason(s) === 'UnknownProfile');
    await settled(operator);
    expect(await writesDuringPasses(operator, 2), 'writes during two resync passes').toBe(0);

    await operator.stop();
    operator = await startOperator({ resyncSeconds: 2 });
    await writesDuringPasses(operator, 2); // the first sync and a resync
    expect(await operator.writes(), 'writes since the restart').toBe(0);
  });

  it('removes every child when the session is deleted (garbage collection); the namespace\'s NetworkPolicy stays for its other sessions', async () => {
    await createSession(ns, 'doomed', { user: 'alice', type: 'desktop', profile: 'desktop-xfce', desktop: { protocol: 'vnc' } });
    await waitSession(ns, 'doomed', 'Running', isPhase('Running'));
    await deleteSession(ns, 'doomed');
    await waitFor('children of doomed to be gone (404)', async () => {
      const gone = await Promise.all([
        isGone(() => pod('doomed')),
        isGone(() => core().readNamespacedSecret({ name: 'doomed-credentials', namespace: ns })),
        isGone(() => core().readNamespacedPersistentVolumeClaim({ name: 'doomed-home', namespace: ns })),
      ]);
      return gone.every(Boolean);
    }, 60_000);
    expect(await isGone(() => kubeConfig().makeApiClient(NetworkingV1Api).readNamespacedNetworkPolicy({ name: 'panalysis-sessions', namespace: ns }))).toBe(false);
    await expectGone(getSession(ns, 'doomed'), 'session doomed');
  });
});
