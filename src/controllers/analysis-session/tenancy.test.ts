// SPDX-License-Identifier: Apache-2.0
/**
 * Tenant isolation in the pure core: children owned by exactly one session, deletion that
 * stops the pod, every loss of the right to run stops it after the grace period, the
 * lifecycle holds on every path, and no supplementary gid below the directory minimum.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import type { AnalysisSession } from '../../api/v1alpha1/analysis-session.ts';
import type { DatasetMount } from '../../api/v1alpha1/dataset-mount.ts';
import type { OperatorConfig } from '../../config/schema.ts';
import type { PosixIdentity } from '../../identity/directory.ts';
import type { ProposalFact } from './access.ts';
import { decideSession, SESSION_FINALIZER } from './decide.ts';
import type { IdentityFact, SessionFacts, SessionPlan } from './decide.ts';
import { judgeChildren } from './children.ts';
import type { KubeObject } from '../../runtime/resource.ts';
import { demoConfig, makeSession, readyPod } from '../../../test/fixtures/session.ts';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const GRACE = 600_000;
const config: OperatorConfig = { ...demoConfig(), proposals: { ...demoConfig().proposals, revocationGracePeriod: '10m' } };
const bob: PosixIdentity = { user: 'bob', uid: 20002, gid: 20002, groups: [{ name: 'p1', gid: 30001 }] };
const proposal: ProposalFact = { kind: 'found', info: { id: '1', members: ['alice', 'bob'] } };
const raw: DatasetMount = {
  apiVersion: 'panalysis.io/v1alpha1', kind: 'DatasetMount', metadata: { name: 'raw', namespace: 'proposal-1' },
  spec: { source: { nfs: { server: 's', path: '/exp/raw' } }, access: { readGroups: ['p1'] }, mountPath: '/data/raw' },
  status: { claimName: 'dataset-raw', conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'ok', lastTransitionTime: '2026-12-01T00:00:00Z' }] },
};
const session = (status?: AnalysisSession['status']) => makeSession('s').user('bob').spec({ datasets: [{ name: 'raw' }], sharedWith: { users: ['alice'] } }).status(status).obj();
const facts = (extra: Partial<SessionFacts> = {}): SessionFacts => ({
  identity: { kind: 'found', identity: bob }, credentials: { secret: 't' }, namespaceUid: 'ns-uid', proposal, datasets: new Map([['raw', raw]]), availableDatasets: ['raw'], ...extra,
});
const podOf = (plan: SessionPlan) => plan.apply.find((o) => o.kind === 'Pod') as V1Pod | undefined;
const ready = (plan: SessionPlan) => plan.status.conditions?.find((c) => c.type === 'Ready');

/** A session that runs: its pod, ready since an hour, and the status that says so. */
function running(): { pod: V1Pod; status: AnalysisSession['status'] } {
  // The run starts when its pod is created (11:00, recorded in status.runStartedAt); the pod is Ready a little later.
  const first = decideSession(session(), facts(), config, Date.parse('2026-12-01T11:00:00Z'));
  const pod = readyPod(podOf(first)!, 'kwok-cpu-0', '2026-12-01T11:00:30Z');
  const plan = decideSession(session(first.status), facts({ pod }), config, NOW);
  expect(plan.status.phase).toBe('Running');
  return { pod, status: plan.status };
}

describe('children belong to exactly one session', () => {
  const owned = (uid: string | undefined) => ({ metadata: { name: 's-home', ...(uid ? { ownerReferences: [{ apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', name: 's', uid, controller: true }] } : {}) } });

  it.each([
    ['no owner', undefined, /persistentvolumeclaim s-home exists and is not owned by this session \(it has no controller\); delete or rename it/],
    ['another session of the same name', 'uid-earlier', /controlled by AnalysisSession s \(uid uid-earlier\)/],
  ])('a claim with %s is a conflict: nothing applied, the session waits naming it, no error retry', (_what, uid, message) => {
    const children = judgeChildren(session(), { PersistentVolumeClaim: owned(uid) });
    expect(children.owned.PersistentVolumeClaim).toBeUndefined();
    const plan = decideSession(session(), facts({ conflicts: children.conflicts }), config, NOW);
    expect(plan.apply).toEqual([]);
    expect(plan.replace).toEqual([]);
    expect(plan.delete).toEqual([]);
    expect(ready(plan)).toMatchObject({ status: 'False', reason: 'ChildConflict' });
    expect(plan.status.message).toMatch(message);
    expect(plan.requeueAfterMs).toBe(60_000);
  });

  it('a conflict stops the session\'s own running pod, never the object in the way', () => {
    const { pod, status } = running();
    const plan = decideSession(session(status), facts({ pod, conflicts: ['service s exists and is not owned by this session (it has no controller); delete or rename it'] }), config, NOW);
    expect(plan.delete).toEqual([{ apiVersion: 'v1', kind: 'Pod', namespace: 'proposal-1', name: 's', uid: pod.metadata!.uid }]);
  });

  it('a child controlled by this session is its own', () => {
    const children = judgeChildren(session(), { PersistentVolumeClaim: owned('uid-s') });
    expect(children).toEqual({ owned: { PersistentVolumeClaim: owned('uid-s') }, conflicts: [] });
  });
});

describe('no plan touches an object the session does not own', () => {
  const KINDS = ['Pod', 'Secret', 'PersistentVolumeClaim', 'NetworkPolicy'] as const;
  const arbOwner = fc.constantFrom<'none' | 'ours' | 'other' | 'absent'>('absent', 'absent', 'ours', 'other', 'none');
  it('any mix of objects under the child names: nothing is applied, replaced or deleted but our own', () => {
    const { pod, status } = running();
    const base = decideSession(session(status), facts({ pod }), config, NOW);
    const desired = new Map([...base.apply, pod as unknown as KubeObject].map((o) => [o.kind!, o]));
    let conflicts = 0;
    fc.assert(fc.property(fc.tuple(...KINDS.map(() => arbOwner)), fc.boolean(), (owners, edited) => {
      const found: Partial<Record<(typeof KINDS)[number], KubeObject>> = {};
      KINDS.forEach((kind, i) => {
        const owner = owners[i];
        if (owner === 'absent') return;
        const obj = structuredClone(desired.get(kind)!) as KubeObject & { spec?: Record<string, unknown> };
        // Ours: the session controls it; the NetworkPolicy, the namespace's, is controlled by the Namespace.
        const ourUid = kind === 'NetworkPolicy' ? 'ns-uid' : 'uid-s';
        const refs = owner === 'ours' ? [{ apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', name: 's', uid: ourUid, controller: true }] : owner === 'other' ? [{ apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', name: 's', uid: 'uid-other', controller: true }] : [];
        obj.metadata = { ...obj.metadata, uid: `${kind}-${owner}`, resourceVersion: '1', ownerReferences: refs };
        if (edited && kind === 'NetworkPolicy') obj.spec = { ...obj.spec, ingress: [{ from: [{ podSelector: {} }] }] };
        found[kind] = obj;
      });
      const children = judgeChildren(session(status), found, 'ns-uid');
      const plan = decideSession(session(status), facts({ pod: children.owned.Pod as unknown as V1Pod, children: children.owned, conflicts: children.conflicts }), config, NOW);
      const foreign = new Set(Object.values(found).filter((o) => !['uid-s', 'ns-uid'].includes(o.metadata?.ownerReferences?.[0]?.uid ?? '')).map((o) => o.metadata!.uid));
      if (foreign.size > 0) {
        conflicts++;
        expect(plan.apply).toEqual([]);
        expect(plan.replace).toEqual([]);
        expect(ready(plan)?.reason).toBe('ChildConflict');
      }
      for (const r of plan.delete) expect(foreign.has(r.uid)).toBe(false);
      for (const r of plan.replace) expect(r.metadata?.ownerReferences?.[0]?.uid).toBe(r.kind === 'NetworkPolicy' ? 'ns-uid' : 'uid-s');
    }), { numRuns: 300 });
    expect(conflicts).toBeGreaterThan(100);
  });
});

describe('a session being deleted', () => {
  const deleting = (finalizers: string[], status?: AnalysisSession['status']) => ({ ...session(status), metadata: { ...session().metadata, deletionTimestamp: '2026-12-01T12:00:00Z', finalizers } });

  it('stops its own pod, creates nothing, reports Deleting, and keeps the finalizer until the pod is gone', () => {
    const { pod, status } = running();
    const plan = decideSession(deleting([SESSION_FINALIZER], status), facts({ pod }), config, NOW);
    expect(plan.apply).toEqual([]);
    expect(plan.delete).toEqual([{ apiVersion: 'v1', kind: 'Pod', namespace: 'proposal-1', name: 's', uid: pod.metadata!.uid }]);
    expect(plan.status.phase).toBe('Deleting');
    expect(ready(plan)).toMatchObject({ status: 'False', reason: 'Deleting' });
    expect(plan.release).toBe(false);
    const gone = decideSession(deleting([SESSION_FINALIZER, 'example.com/hold'], plan.status), facts(), config, NOW + 5000);
    expect(gone.release).toBe(true);
    expect(gone.delete).toEqual([]);
    expect(gone.status.message).toMatch(/its pod is stopped\. Waiting for the finalizers example\.com\/hold\./);
  });

  it('stops its pod orphaned by --cascade=orphan (its UID in the annotation, no controller) even without our finalizer', () => {
    const { pod } = running();
    const orphan = { ...pod, metadata: { ...pod.metadata, ownerReferences: [] } } as unknown as KubeObject;
    const children = judgeChildren(session(), { Pod: orphan });
    expect(children.orphanPod).toBeDefined();
    const plan = decideSession(deleting(['example.com/hold']), facts({ orphanPod: children.orphanPod }), config, NOW);
    expect(plan.delete.map((r) => r.uid)).toEqual([pod.metadata!.uid]);
  });

  it('never counts a pod of the same name without the session\'s UID as its own', () => {
    const { pod } = running();
    const foreign = { ...pod, metadata: { ...pod.metadata, ownerReferences: [], annotations: {} } } as unknown as KubeObject;
    expect(judgeChildren(session(), { Pod: foreign }).orphanPod).toBeUndefined();
  });
});

describe('every loss of the right to run stops a running session after the grace period', () => {
  const datasetGone = facts({ datasets: new Map([['raw', undefined]]), availableDatasets: [] });
  const losses: Record<string, [Partial<SessionFacts>, OperatorConfig, string]> = {
    'the user removed from the directory': [{ identity: { kind: 'missing' } }, config, 'UserNotFound'],
    'an identity that became invalid': [{ identity: { kind: 'found', identity: { ...bob, invalid: 'uidNumber 20002 is shared with uid=eve' } } }, config, 'InvalidIdentity'],
    'the proposal gone': [{ proposal: { kind: 'missing', id: '1' } }, config, 'ProposalNotFound'],
    'the DatasetMount deleted': [datasetGone, config, 'DatasetNotFound'],
    'the DatasetMount being deleted': [{ datasets: new Map([['raw', { ...raw, metadata: { ...raw.metadata, deletionTimestamp: '2026-12-01T12:00:00Z' } }]]) }, config, 'DatasetDeleted'],
    'the profile removed': [{}, { ...config, profiles: config.profiles.filter((p) => p.name !== 'jupyter-scipy') }, 'UnknownProfile'],
    'membership lost': [{ proposal: { kind: 'found', info: { id: '1', members: ['alice'] } } }, config, 'NotProposalMember'],
    'a collaborator it is shared with leaving the proposal': [{ proposal: { kind: 'found', info: { id: '1', members: ['bob'] } } }, config, 'SharedWithNonMember'],
  };
  it.each(Object.entries(losses))('%s', (_what, [change, cfg, reason]) => {
    const { pod, status } = running();
    const changed: SessionFacts = { ...facts({ pod }), ...change, pod };
    const grace = decideSession(session(status), changed, cfg, NOW + 1000);
    expect(grace.delete).toEqual([]);
    expect(grace.apply.map((o) => o.kind)).not.toContain('Pod');
    expect(grace.status.phase).toBe('Running');
    expect(grace.status.conditions?.find((c) => c.type === 'Authorized')).toMatchObject({ status: 'False', reason });
    expect(grace.status.message).toMatch(/^Access revoked: .* The session stops at 2026-12-01T12:10:01Z unless access is restored\.$/);
    expect(grace.requeueAfterMs).toBe(GRACE);
    const stop = decideSession(session(grace.status), changed, cfg, NOW + 1000 + GRACE);
    expect(stop.delete.map((r) => r.uid)).toEqual([pod.metadata!.uid]);
    expect(stop.apply.map((o) => o.kind)).not.toContain('Pod');
    expect(ready(stop)).toMatchObject({ status: 'False', reason: 'AccessRevoked' });
  });

  it('a session held for an outside cause (directory down) keeps running, but still ends with its lifetime', () => {
    const { pod, status } = running();
    const down: IdentityFact = { kind: 'unavailable', message: 'timeout' };
    const held = decideSession(session(status), facts({ pod, identity: down }), config, NOW);
    expect(held.delete).toEqual([]);
    expect(held.apply.map((o) => o.kind)).toEqual(['Secret', 'PersistentVolumeClaim', 'NetworkPolicy']);
    expect(held.status.phase).toBe('Running');
    expect(held.status.expiresAt).toBe('2026-12-01T19:00:00Z');
    const expired = decideSession(session(held.status), facts({ pod, identity: down }), config, Date.parse('2026-12-01T19:00:00Z'));
    expect(expired.delete.map((r) => r.uid)).toEqual([pod.metadata!.uid]);
    expect(ready(expired)).toMatchObject({ reason: 'LifetimeExpired' });
    // The pod is gone and the directory still down; when it answers again the session stays expired.
    const after = Date.parse('2026-12-01T19:05:00Z');
    const waiting = decideSession(session(expired.status), facts({ identity: down }), config, after);
    expect(waiting.status.expiresAt).toBe('2026-12-01T19:00:00Z');
    const back = decideSession(session(waiting.status), facts(), config, after + 60_000);
    expect(podOf(back)).toBeUndefined();
    expect(back.status.phase).toBe('Expired');
  });
});

describe('children stay exact while a running session is held or in its grace period', () => {
  it('replaces a NetworkPolicy with an extra rule while the directory is down', () => {
    const { pod, status } = running();
    const np = decideSession(session(), facts(), config, NOW).apply.find((o) => o.kind === 'NetworkPolicy') as KubeObject & { spec: { ingress: unknown[] } };
    const widened = { ...np, metadata: { ...np.metadata, uid: 'np-uid', resourceVersion: '7' }, spec: { ...np.spec, ingress: [...np.spec.ingress, { from: [{ podSelector: {} }] }] } };
    const held = decideSession(session(status), facts({ pod, identity: { kind: 'unavailable', message: 'down' }, children: { Pod: pod as unknown as KubeObject, NetworkPolicy: widened } }), config, NOW);
    expect(held.status.phase).toBe('Running');
    expect(held.replace).toEqual([{ ...widened, spec: np.spec }]);
  });
});

describe('the lifecycle holds on every path', () => {
  const arbIdentity: fc.Arbitrary<IdentityFact> = fc.constantFrom<IdentityFact>(
    { kind: 'found', identity: bob }, { kind: 'missing' }, { kind: 'unavailable', message: 'down' }, { kind: 'found', identity: { ...bob, uid: 0 } },
  );
  const arbProposal: fc.Arbitrary<ProposalFact> = fc.constantFrom<ProposalFact>(proposal, { kind: 'missing', id: '1' }, { kind: 'unavailable', message: 'down' }, { kind: 'found', info: { id: '1', members: [] } });
  it('a stopped or expired session never keeps or gets a pod, whatever the directory, proposal, data or children say', () => {
    const { pod, status } = running();
    let stops = 0;
    fc.assert(fc.property(arbIdentity, arbProposal, fc.boolean(), fc.boolean(), fc.constantFrom('stopped', 'expired', 'running'), (identity, p, dataGone, conflict, life) => {
      const s = life === 'stopped' ? makeSession('s').user('bob').spec({ datasets: [{ name: 'raw' }] }).stopped().status(status).obj() : session(status);
      const now = life === 'expired' ? Date.parse(status!.expiresAt!) + 1 : NOW;
      const plan = decideSession(s, facts({ pod, identity, proposal: p, ...(dataGone ? { datasets: new Map([['raw', undefined]]) } : {}), ...(conflict ? { conflicts: ['service s exists and is not owned by this session'] } : {}) }), config, now);
      if (life === 'running') return;
      stops++;
      expect(podOf(plan)).toBeUndefined();
      expect(plan.delete.map((r) => r.uid)).toEqual([pod.metadata!.uid]);
      expect(['Running', 'Starting']).not.toContain(plan.status.phase);
    }), { numRuns: 300 });
    expect(stops).toBeGreaterThan(100);
  });
});

describe('sharing', () => {
  it('refuses a session shared with someone outside its proposal, naming them', () => {
    const s = makeSession('s').user('bob').spec({ sharedWith: { users: ['alice', 'carol', 'mallory'] } }).obj();
    const plan = decideSession(s, facts(), config, NOW);
    expect(podOf(plan)).toBeUndefined();
    expect(plan.status.conditions?.find((c) => c.type === 'Authorized')).toMatchObject({ status: 'False', reason: 'SharedWithNonMember', message: 'spec.sharedWith.users: carol, mallory are not members of proposal 1; share the session only with members of the proposal.' });
  });
});

describe('supplementary groups', () => {
  it('refuses a directory group below directory.minId (gid 0) that would grant data access, naming it', () => {
    const wheel: PosixIdentity = { ...bob, groups: [{ name: 'p1', gid: 0 }] };
    const plan = decideSession(session(), facts({ identity: { kind: 'found', identity: wheel } }), config, NOW);
    expect(podOf(plan)).toBeUndefined();
    expect(ready(plan)).toMatchObject({ status: 'False', reason: 'InvalidIdentity' });
    expect(plan.status.message).toMatch(/directory group p1 \(gid 0\) of "bob" would grant access to the requested data, but sessions run only with groups of gid 1000 or higher/);
  });

  it('every gid the pod gets from the directory is at least directory.minId', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 70_000 }), (gid) => {
      const identity: PosixIdentity = { ...bob, groups: [{ name: 'p1', gid }] };
      const pod = podOf(decideSession(session(), facts({ identity: { kind: 'found', identity } }), config, NOW));
      const imageGroups = config.profiles.find((p) => p.name === 'jupyter-scipy')!.imageGroups ?? [];
      const fromDirectory = (pod?.spec?.securityContext?.supplementalGroups ?? []).filter((g) => !imageGroups.includes(g));
      expect(fromDirectory.every((g) => g >= config.directory.minId)).toBe(true);
      if (gid >= config.directory.minId) expect(fromDirectory).toEqual([gid]);
    }), { numRuns: 200 });
  });

  it('refuses an identity the directory marks invalid (a shared uidNumber)', () => {
    const plan = decideSession(session(), facts({ identity: { kind: 'found', identity: { ...bob, invalid: 'uidNumber 20002 is shared with eve' } } }), config, NOW);
    expect(ready(plan)).toMatchObject({ reason: 'InvalidIdentity' });
    expect(plan.status.message).toMatch(/spec\.user: the directory entry of "bob" cannot be trusted: uidNumber 20002 is shared with eve/);
  });
});
