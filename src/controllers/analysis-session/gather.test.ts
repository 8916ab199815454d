// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { gatherSessionFacts, recheckChildren } from './gather.ts';
import type { GatherDeps } from './gather.ts';
import { StaticDirectory } from '../../identity/static-directory.ts';
import { StaticProposals } from '../../identity/proposals.ts';
import type { KubeObject, ObjectRef } from '../../runtime/resource.ts';
import { makeSession } from '../../../test/fixtures/session.ts';

function deps(cache: Map<string, KubeObject>, live: Map<string, KubeObject>): GatherDeps {
  const key = (r: ObjectRef) => `${r.kind}/${r.namespace ?? ''}/${r.name}`;
  return {
    directory: () => new StaticDirectory({ users: [{ name: 'alice', uid: 20001, gid: 20001 }] }),
    proposals: () => new StaticProposals([]),
    lookup: (r) => cache.get(key(r)),
    get: async (r) => live.get(key(r)),
    datasets: () => [],
    quota: () => ({ kind: 'unlimited' as const }),
  };
}

const owner = (uid: string) => [{ apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', name: 'nb', uid, controller: true }];
const secret = (token: string, ownerUid: string | undefined = 'uid-nb'): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'nb-credentials', namespace: 'proposal-1', ...(ownerUid ? { ownerReferences: owner(ownerUid) } : {}) }, data: { token: Buffer.from(token).toString('base64') } } as KubeObject);

describe('gatherSessionFacts', () => {
  it('keeps the credentials a Secret already holds, even before the cache has seen it', async () => {
    const s = makeSession('nb').obj();
    const live = new Map([['Secret/proposal-1/nb-credentials', secret('first-token')]]);
    const d = deps(new Map(), live);
    const fromCache = await gatherSessionFacts(s, d);
    expect(fromCache.credentials.secret).not.toBe('first-token');
    expect((await recheckChildren(s, fromCache, d, ['Secret'])).credentials.secret).toBe('first-token');
    const cached = new Map([['Secret/proposal-1/nb-credentials', secret('cached-token')]]);
    expect((await gatherSessionFacts(s, deps(cached, new Map()))).credentials.secret).toBe('cached-token');
  });

  it.each([
    ['no owner', ''],
    ['another session of the same name (an earlier one, or another user\'s)', 'uid-of-another'],
  ])('never reads the token of a Secret under the name with %s, and reports the conflict', async (_what, ownerUid) => {
    const s = makeSession('nb').obj();
    const planted = new Map([['Secret/proposal-1/nb-credentials', secret('planted', ownerUid)]]);
    for (const [cache, live] of [[new Map<string, KubeObject>(), planted], [planted, new Map<string, KubeObject>()]] as const) {
      const d = deps(cache, live);
      const facts = await recheckChildren(s, await gatherSessionFacts(s, d), d, ['Secret']);
      expect(facts.credentials.secret).not.toBe('planted');
      expect(facts.children?.Secret).toBeUndefined();
      expect(facts.conflicts).toEqual([expect.stringMatching(/^secret nb-credentials exists and is not owned by this session \(it (has no controller|is controlled by AnalysisSession nb \(uid uid-of-another\))\); delete or rename it$/)]);
    }
  });

  it('sees a claim without our labels (not in the cache) through a live read', async () => {
    const claim = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'nb-home', namespace: 'proposal-1' } } as KubeObject;
    const d = deps(new Map(), new Map([['PersistentVolumeClaim/proposal-1/nb-home', claim]]));
    const fromCache = await gatherSessionFacts(makeSession('nb').obj(), d);
    expect(fromCache.conflicts).toEqual([]);
    const unchanged = await recheckChildren(makeSession('nb').obj(), fromCache, d, ['Secret']);
    expect(unchanged).toBe(fromCache);
    const facts = await recheckChildren(makeSession('nb').obj(), fromCache, d, ['Secret', 'PersistentVolumeClaim']);
    expect(facts.conflicts).toEqual(['persistentvolumeclaim nb-home exists and is not owned by this session (it has no controller); delete or rename it']);
  });

  it('mints a fresh, unguessable token only when no Secret exists', async () => {
    const a = await gatherSessionFacts(makeSession('nb').obj(), deps(new Map(), new Map()));
    const b = await gatherSessionFacts(makeSession('nb').obj(), deps(new Map(), new Map()));
    expect(a.credentials.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.credentials.secret).not.toBe(b.credentials.secret);
    const desk = await gatherSessionFacts(makeSession('d').desktop('vnc').obj(), deps(new Map(), new Map()));
    expect(desk.credentials.secret).toHaveLength(8);
  });
});

describe('gatherSessionFacts for a session that stops anyway', () => {
  it('asks neither the directory nor the proposal source', async () => {
    let asked = 0;
    const d = deps(new Map(), new Map());
    const counting: GatherDeps = { ...d, directory: () => { asked++; return d.directory(); }, proposals: () => { asked++; return d.proposals(); } };
    const facts = await gatherSessionFacts(makeSession('nb').stopped().obj(), counting, () => true);
    expect(asked).toBe(0);
    expect(facts.identity.kind).toBe('unavailable');
    expect(facts.proposal?.kind).toBe('unavailable');
    await gatherSessionFacts(makeSession('nb').obj(), counting, () => false);
    expect(asked).toBe(1);
  });
});
