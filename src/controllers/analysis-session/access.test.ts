// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import type { DatasetMount } from '../../api/v1alpha1/dataset-mount.ts';
import type { PosixIdentity } from '../../identity/directory.ts';
import { decideAccess, MAX_GROUPS } from './access.ts';
import type { ProposalFact } from './access.ts';
import { decideSession } from './decide.ts';
import type { SessionFacts } from './decide.ts';
import { demoConfig, makeSession, readyPod } from '../../../test/fixtures/session.ts';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const alice: PosixIdentity = { user: 'alice', uid: 20001, gid: 20001, groups: [{ name: 'p1', gid: 30001 }, { name: 'p1-writers', gid: 30002 }, { name: 'other', gid: 30009 }] };
const bob: PosixIdentity = { user: 'bob', uid: 20002, gid: 20002, groups: [{ name: 'p1', gid: 30001 }] };
const proposal: ProposalFact = { kind: 'found', info: { id: '1', members: ['alice', 'bob'] } };

function dataset(name: string, spec: Partial<DatasetMount['spec']> = {}, ready = true): DatasetMount {
  return {
    apiVersion: 'panalysis.io/v1alpha1', kind: 'DatasetMount', metadata: { name, namespace: 'proposal-1' },
    spec: { source: { nfs: { server: 's', path: `/exp/${name}` } }, access: { readGroups: ['p1'], writeGroups: ['p1-writers'] }, mountPath: `/data/${name}`, readOnly: false, ...spec },
    status: { claimName: `dataset-${name}`, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'Ready' : 'ClaimPending', message: ready ? 'ok' : 'Claim dataset-x is Pending.', lastTransitionTime: '2026-12-01T00:00:00Z' }] },
  };
}
const withData = (...names: string[]) => makeSession('s').spec({ datasets: names.map((name) => ({ name })) }).obj();
const asUser = (user: string, ...names: string[]) => makeSession('s').user(user).spec({ datasets: names.map((name) => ({ name })) }).obj();
const map = (...ds: DatasetMount[]) => new Map(ds.map((d) => [d.metadata.name!, d]));

describe('decideAccess', () => {
  it('mounts read-write for a writer, read-only for a reader, with the granting groups only', () => {
    const a = decideAccess(withData('raw'), alice, proposal, map(dataset('raw')), ['raw'], NOW);
    expect(a.outcome).toBe('ok');
    expect(a.mounts).toEqual([{ name: 'raw', claimName: 'dataset-raw', mountPath: '/data/raw', readOnly: false }]);
    expect(a.gids).toEqual([30001, 30002]);
    const b = decideAccess(asUser('bob', 'raw'), bob, proposal, map(dataset('raw')), ['raw'], NOW);
    expect(b.mounts[0]!.readOnly).toBe(true);
    expect(b.gids).toEqual([30001]);
  });

  it('makes writers read-only once writableUntil has passed, and says when that happens', () => {
    const ds = dataset('raw', { writableUntil: '2026-12-01T13:00:00Z' });
    const before = decideAccess(withData('raw'), alice, proposal, map(ds), ['raw'], NOW);
    expect(before.mounts[0]!.readOnly).toBe(false);
    expect(before.nextChangeMs).toBe(3600_000);
    const after = decideAccess(withData('raw'), alice, proposal, map(ds), ['raw'], NOW + 2 * 3600_000);
    expect(after.mounts[0]!.readOnly).toBe(true);
  });

  const refusals: Record<string, [Parameters<typeof decideAccess>, string, RegExp]> = {
    'a user outside the proposal': [[asUser('carol'), { ...bob, user: 'carol' }, proposal, map(), [], NOW], 'NotProposalMember', /spec\.user: carol is not a member of proposal 1/],
    'an unknown proposal': [[withData(), alice, { kind: 'missing', id: '99' }, map(), [], NOW], 'ProposalNotFound', /proposal 99/],
    'a dataset that does not exist (or is in another namespace)': [[withData('elsewhere'), alice, proposal, map(dataset('raw')), ['raw'], NOW], 'DatasetNotFound', /spec\.datasets\[0\]\.name: no DatasetMount "elsewhere" in namespace proposal-1; DatasetMounts here: raw/],
    'a dataset the user may not read': [[asUser('bob', 'raw'), bob, proposal, map(dataset('raw', { access: { readGroups: ['staff'] } })), ['raw'], NOW], 'DatasetAccessDenied', /bob may not read dataset raw: not a member of its read groups \(staff\)/],
    'an embargoed dataset outside a proposal': [[withData('raw'), alice, { kind: 'none' }, map(dataset('raw', { embargoUntil: '2027-01-01T00:00:00Z' })), ['raw'], NOW], 'EmbargoInEffect', /under embargo until 2027-01-01/],
  };
  it.each(Object.entries(refusals))('refuses %s', (_name, [args, reason, message]) => {
    const a = decideAccess(...args);
    expect(a.outcome).toBe('refuse');
    expect(a.authorized.reason).toBe(reason);
    expect(a.authorized.message).toMatch(message);
    expect(a.mounts).toEqual([]);
  });

  it('keeps a dataset without writableUntil writable until the end of the beamtime plus the grace, then read-only', () => {
    const beamtime: ProposalFact = { kind: 'found', info: { id: '1', members: ['alice'], beamtime: { start: '2026-11-28T08:00:00Z', end: '2026-12-01T08:00:00Z' } } };
    const week = 7 * 86_400_000;
    const during = decideAccess(withData('raw'), alice, beamtime, map(dataset('raw')), ['raw'], NOW, [], [], week);
    expect(during.mounts[0]).toMatchObject({ readOnly: false, writableUntil: '2026-12-08T08:00:00Z' });
    expect(during.data.message).toBe('raw at /data/raw (read-write until 2026-12-08T08:00:00Z)');
    expect(during.nextChangeMs).toBe(Date.parse('2026-12-08T08:00:00Z') - NOW);
    const after = decideAccess(withData('raw'), alice, beamtime, map(dataset('raw')), ['raw'], Date.parse('2026-12-08T08:00:01Z'), [], [], week);
    expect(after.mounts[0]!.readOnly).toBe(true);
    const explicit = decideAccess(withData('raw'), alice, beamtime, map(dataset('raw', { writableUntil: '2027-01-01T00:00:00Z' })), ['raw'], Date.parse('2026-12-20T00:00:00Z'), [], [], week);
    expect(explicit.mounts[0]!.readOnly).toBe(false);
  });

  it('waits for a dataset that is not ready, naming it', () => {
    const a = decideAccess(withData('raw'), alice, proposal, map(dataset('raw', {}, false)), ['raw'], NOW);
    expect(a.outcome).toBe('wait');
    expect(a.data.message).toMatch(/spec\.datasets\[0\]: dataset raw is not ready: Claim dataset-x is Pending/);
  });

  it(`refuses more than ${MAX_GROUPS} supplementary groups (the NFS AUTH_SYS limit)`, () => {
    const many: PosixIdentity = { ...alice, groups: Array.from({ length: 20 }, (_, i) => ({ name: `g${i}`, gid: 40000 + i })) };
    const ds = Array.from({ length: 17 }, (_, i) => dataset(`d${i}`, { access: { readGroups: [`g${i}`] }, mountPath: `/data/d${i}` }));
    const a = decideAccess(makeSession('s').spec({ datasets: ds.map((d) => ({ name: d.metadata.name! })) }).obj(), many, proposal, map(...ds), [], NOW);
    expect(a.authorized).toMatchObject({ reason: 'TooManyGroups' });
    expect(a.authorized.message).toMatch(/17 supplementary groups .* more than the 16/);
  });
});

describe('revocation of a running session', () => {
  const config = { ...demoConfig(), proposals: { ...demoConfig().proposals, revocationGracePeriod: '10m' } };
  const facts = (id: PosixIdentity, pod?: V1Pod, p: ProposalFact = proposal): SessionFacts => ({ identity: { kind: 'found', identity: id }, credentials: { secret: 't' }, namespaceUid: 'ns-uid', pod, proposal: p, datasets: map(dataset('raw')), availableDatasets: ['raw'] });

  it('keeps the pod through the grace period, then deletes it and keeps home and credentials', () => {
    const s0 = makeSession('s').user('bob').spec({ datasets: [{ name: 'raw' }] }).obj();
    const first = decideSession(s0, facts(bob), config, NOW);
    const pod = readyPod(first.apply.find((o) => o.kind === 'Pod') as V1Pod, 'kwok-cpu-0', '2026-12-01T11:00:00Z');
    const running = decideSession(s0, facts(bob, pod), config, NOW);
    expect(running.status.phase).toBe('Running');

    const removed: ProposalFact = { kind: 'found', info: { id: '1', members: ['alice'] } };
    const s1 = makeSession('s').user('bob').spec({ datasets: [{ name: 'raw' }] }).status(running.status).obj();
    const grace = decideSession(s1, facts(bob, pod, removed), config, NOW + 1000);
    expect(grace.delete).toEqual([]);
    expect(grace.status.phase).toBe('Running');
    expect(grace.status.message).toMatch(/Access revoked: spec\.user: bob is not a member of proposal 1.*stops at 2026-12-01T12:10:01Z/);
    expect(grace.requeueAfterMs).toBe(600_000);

    const s2 = makeSession('s').user('bob').spec({ datasets: [{ name: 'raw' }] }).status(grace.status).obj();
    const stop = decideSession(s2, facts(bob, pod, removed), config, NOW + 1000 + 600_000);
    expect(stop.delete.map((r) => r.kind)).toEqual(['Pod']);
    expect(stop.apply.map((o) => o.kind)).toEqual(['Secret', 'PersistentVolumeClaim', 'NetworkPolicy']); // kept exact, no pod
    expect(stop.status.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('AccessRevoked');
  });

  it('keeps a running session running while the directory is down', () => {
    const s0 = makeSession('s').obj();
    const first = decideSession(s0, facts(alice), config, NOW);
    const pod = readyPod(first.apply.find((o) => o.kind === 'Pod') as V1Pod, 'kwok-cpu-0', '2026-12-01T11:00:00Z');
    const plan = decideSession(s0, { ...facts(alice, pod), identity: { kind: 'unavailable', message: 'timeout after 5000 ms' } }, config, NOW);
    expect(plan.delete).toEqual([]);
    expect(plan.apply.map((o) => o.kind)).toEqual(['Secret', 'PersistentVolumeClaim', 'NetworkPolicy']); // kept exact, no new pod
    expect(plan.status.phase).toBe('Running');
    expect(plan.status.conditions?.find((c) => c.type === 'IdentityResolved')).toMatchObject({ status: 'Unknown', reason: 'DirectoryUnavailable' });
    expect(plan.requeueAfterMs).toBe(30_000);
  });

  it('mounts datasets in the pod as PVCs, read-only where required, with the right groups', () => {
    const plan = decideSession(makeSession('s').user('bob').spec({ datasets: [{ name: 'raw' }] }).obj(), facts(bob), config, NOW);
    const pod = plan.apply.find((o) => o.kind === 'Pod') as V1Pod;
    expect(pod.spec!.volumes).toContainEqual({ name: 'data-raw', persistentVolumeClaim: { claimName: 'dataset-raw', readOnly: true } });
    expect(pod.spec!.containers[0]!.volumeMounts).toContainEqual({ name: 'data-raw', mountPath: '/data/raw', readOnly: true });
    expect(pod.spec!.securityContext!.supplementalGroups).toEqual([100, 30001]);
    expect(pod.spec!.containers[0]!.volumeMounts!.every((m) => m.subPath === undefined)).toBe(true);
  });
});
