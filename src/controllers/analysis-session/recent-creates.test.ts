// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../runtime/resource.ts';
import { fakeSessionDeps } from '../../../test/fixtures/session-deps.ts';
import { reconcileSession } from './reconcile.ts';
import { RECENT_CREATE_TTL_MS, RecentCreates } from './recent-creates.ts';

const pod = (uid: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'nb', namespace: 'p', uid } });
const ref = { apiVersion: 'v1', kind: 'Pod', namespace: 'p', name: 'nb' };

describe('RecentCreates', () => {
  it('stands in for the cache until the cache shows any event of the object, or the TTL runs out', () => {
    let now = 0;
    const recent = new RecentCreates(() => now);
    recent.record(pod('a'));
    expect(recent.get(ref)?.metadata?.uid).toBe('a');
    recent.seen(pod('a'));
    expect(recent.get(ref)).toBeUndefined();
    recent.record(pod('b'));
    now = RECENT_CREATE_TTL_MS + 1;
    expect(recent.get(ref)).toBeUndefined();
    expect(recent.size).toBe(0);
  });

  it('never holds a NetworkPolicy: a pod must not start on the belief that its policy is in force', () => {
    const recent = new RecentCreates();
    recent.record({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'panalysis-sessions', namespace: 'p' } });
    expect(recent.size).toBe(0);
  });

  it('keeps a reconcile whose cache has not shown its new pod yet from creating it again', async () => {
    const NS = 'proposal-1';
    const recent = new RecentCreates();
    const { kube, deps } = fakeSessionDeps(Date.parse('2026-12-01T12:00:00Z'));
    const cached = deps.lookup;
    // The cache lags: it shows no pod at all; the view of recent creates is all there is.
    deps.lookup = (r) => (r.kind === 'Pod' ? recent.get(r) : cached(r));
    deps.created = (obj) => recent.record(obj);
    kube.seed({ apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', metadata: { name: 'nb', namespace: NS }, spec: { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy' } } as KubeObject);
    const reconcile = () => reconcileSession({ key: `${NS}/nb`, namespace: NS, name: 'nb' }, deps);
    await reconcile();
    const creates = kube.writes.create;
    expect(recent.get({ ...ref, namespace: NS })).toBeDefined();
    await reconcile();
    expect(kube.writes.create).toBe(creates);
  });
});
