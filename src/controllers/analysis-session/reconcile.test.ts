// SPDX-License-Identifier: Apache-2.0
/**
 * reconcileSession against an in-memory apiserver: the finalizer, a name taken by an
 * object without our labels (not in the cache), deletion with a foreign finalizer, the
 * exact comparison of children, and a Service left by an older version.
 */
import { describe, expect, it } from 'vitest';
import type { AnalysisSession } from '../../api/v1alpha1/analysis-session.ts';
import type { KubeObject } from '../../runtime/resource.ts';
import { fakeSessionDeps } from '../../../test/fixtures/session-deps.ts';
import { SESSION_FINALIZER } from './decide.ts';
import { reconcileSession } from './reconcile.ts';

const NS = 'proposal-1';
const session = (name: string): AnalysisSession => ({ apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', metadata: { name, namespace: NS }, spec: { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy' } });

/** A FakeKube with a cache that, like the operator's, holds sessions and only children with our labels. */
function setup() {
  const { kube, deps } = fakeSessionDeps(Date.parse('2026-12-01T12:00:00Z'));
  const read = (kind: string, name: string, apiVersion = 'v1') => kube.get<KubeObject & Record<string, any>>({ apiVersion, kind, namespace: NS, name });
  const reconcile = (name: string) => reconcileSession({ key: `${NS}/${name}`, namespace: NS, name }, deps);
  return { kube, deps, read, reconcile };
}

describe('reconcileSession', () => {
  it('adds the finalizer and creates the children of a new session, owned by it', async () => {
    const { kube, read, reconcile } = setup();
    kube.seed(session('nb'));
    await reconcile('nb');
    const s = await read('AnalysisSession', 'nb', 'panalysis.io/v1alpha1');
    expect(s?.metadata?.finalizers).toEqual([SESSION_FINALIZER]);
    const pod = await read('Pod', 'nb');
    expect(pod?.metadata?.ownerReferences?.[0]).toMatchObject({ uid: s?.metadata?.uid, controller: true });
    expect(await read('Service', 'nb')).toBeUndefined(); // the gateway connects to the pod's IP
  });

  it('leaves alone an owned Service an older version created: no conflict, never written or deleted', async () => {
    const { kube, read, reconcile } = setup();
    const s = kube.seed(session('nb')) as AnalysisSession;
    const owner = { apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', name: 'nb', uid: s.metadata.uid!, controller: true, blockOwnerDeletion: true };
    const labels = { 'app.kubernetes.io/managed-by': 'panalysis', 'app.kubernetes.io/name': 'panalysis-session' };
    const old = kube.seed({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'nb', namespace: NS, labels, ownerReferences: [owner] }, spec: { selector: { app: 'mine' }, ports: [{ port: 8888 }] } } as KubeObject);
    await reconcile('nb');
    await reconcile('nb');
    const after = await read('AnalysisSession', 'nb', 'panalysis.io/v1alpha1');
    expect(after?.status?.conditions?.find((c: { reason?: string }) => c.reason === 'ChildConflict')).toBeUndefined();
    expect(await read('Pod', 'nb')).toBeDefined();
    expect(await read('Service', 'nb')).toEqual(old);
  });

  it('writes nothing over a Secret without our labels (absent from the cache), never reads its token and starts no pod', async () => {
    const { kube, read, reconcile } = setup();
    kube.seed(session('nb'));
    const planted = kube.seed({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'nb-credentials', namespace: NS }, data: { token: Buffer.from('known').toString('base64') } } as KubeObject);
    await reconcile('nb');
    const s = await read('AnalysisSession', 'nb', 'panalysis.io/v1alpha1');
    expect(s?.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ChildConflict' });
    expect(s?.status?.message).toMatch(/^secret nb-credentials exists and is not owned by this session \(it has no controller\); delete or rename it/);
    expect(await read('Secret', 'nb-credentials')).toEqual(planted);
    expect(await read('Pod', 'nb')).toBeUndefined();
    // The children created with the Secret's attempt (claim, policy) are the session's own, removed with it.
    const claim = await read('PersistentVolumeClaim', 'nb-home');
    if (claim) expect(claim.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'AnalysisSession', name: 'nb', controller: true });
    expect(kube.writes.apply).toBe(0);
  });

  it('stops the pod of a session deleted while another finalizer holds it, and removes only its own finalizer', async () => {
    const { kube, read, reconcile } = setup();
    kube.seed(session('nb'));
    await reconcile('nb');
    await reconcile('nb');
    expect(await read('Pod', 'nb')).toBeDefined();
    const ref = { apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', namespace: NS, name: 'nb' };
    await kube.jsonPatch(ref, [{ op: 'add', path: '/metadata/finalizers/-', value: 'example.com/hold' }]);
    await kube.delete(ref);
    await reconcile('nb');
    expect(await read('Pod', 'nb')).toBeUndefined();
    await reconcile('nb');
    const s = await read('AnalysisSession', 'nb', 'panalysis.io/v1alpha1');
    expect(s?.metadata?.finalizers).toEqual(['example.com/hold']);
    expect(s?.metadata?.deletionTimestamp).toBeDefined();
    expect(s?.status).toMatchObject({ phase: 'Deleting', message: 'The session is being deleted; its pod is stopped. Waiting for the finalizers example.com/hold.' });
    const writes = { ...kube.writes };
    await reconcile('nb');
    expect(kube.writes).toEqual(writes);
    expect(await read('Pod', 'nb')).toBeUndefined();
  });

  it('replaces the namespace\'s NetworkPolicy when it got an extra ingress rule, exactly and once', async () => {
    const { kube, read, reconcile } = setup();
    kube.seed(session('nb'));
    await reconcile('nb');
    await reconcile('nb');
    const np = (await read('NetworkPolicy', 'panalysis-sessions', 'networking.k8s.io/v1'))!;
    expect(np.metadata!.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Namespace', name: NS, uid: `ns-uid-${NS}`, controller: true }]);
    const wanted = np.spec.ingress;
    await kube.replace({ ...np, spec: { ...np.spec, ingress: [...wanted, { from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] } } as KubeObject);
    const replaced = kube.writes.replace;
    await reconcile('nb');
    expect((await read('NetworkPolicy', 'panalysis-sessions', 'networking.k8s.io/v1'))!.spec.ingress).toEqual(wanted);
    expect(kube.writes.replace).toBe(replaced + 1);
    await reconcile('nb');
    expect(kube.writes.replace).toBe(replaced + 1);
  });

  it('gives every session of a namespace the one NetworkPolicy of the namespace, created once', async () => {
    const { kube, read, reconcile } = setup();
    kube.seed(session('a'));
    kube.seed(session('b'));
    await reconcile('a');
    const creates = kube.writes.create;
    await reconcile('b');
    // b: its Secret, claim and pod; the policy exists already.
    expect(kube.writes.create).toBe(creates + 3);
    const np = (await read('NetworkPolicy', 'panalysis-sessions', 'networking.k8s.io/v1'))!;
    expect(np.spec.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/managed-by': 'panalysis', 'app.kubernetes.io/name': 'panalysis-session', 'panalysis.io/component': 'session' } });
    for (const name of ['a', 'b']) {
      const pod = (await read('Pod', name))!;
      for (const [k, v] of Object.entries(np.spec.podSelector.matchLabels as Record<string, string>)) expect(pod.metadata!.labels![k]).toBe(v);
    }
    expect(await read('NetworkPolicy', 'a', 'networking.k8s.io/v1')).toBeUndefined();
  });

  it('sends one create of the namespace\'s NetworkPolicy when sessions of a new namespace are reconciled at once', async () => {
    const { kube, deps } = setup();
    deps.sharedCreates = new Map();
    for (const name of ['a', 'b', 'c']) kube.seed(session(name));
    await Promise.all(['a', 'b', 'c'].map((name) => reconcileSession({ key: `${NS}/${name}`, namespace: NS, name }, deps)));
    // Three Secrets, claims and pods, one policy; no 409 and no apply after one.
    expect(kube.writes.create).toBe(3 * 3 + 1);
    expect(kube.writes.apply).toBe(0);
  });
});
