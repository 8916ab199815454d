// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import type { V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import { decideSession } from './decide.ts';
import type { IdentityFact, SessionFacts, SessionPlan } from './decide.ts';
import { START_SETTLE_MS } from './start-settle.ts';
import { demoConfig, makeSession, readyPod } from '../../../test/fixtures/session.ts';
import type { AnalysisSession } from '../../api/v1alpha1/analysis-session.ts';
import type { StorageClassFact } from './home-volume.ts';
import { HOME_VOLUME_PATIENCE_MS } from './home-volume.ts';

const config = demoConfig();
const NOW = Date.parse('2026-11-25T12:00:00Z');
const alice: IdentityFact = { kind: 'found', identity: { user: 'alice', uid: 20001, gid: 20001, groups: [{ name: 'p1', gid: 30001 }] } };
const facts = (extra: Partial<SessionFacts> = {}): SessionFacts => ({ identity: alice, credentials: { secret: 'tok' }, namespaceUid: 'ns-uid', ...extra });
const immediate: StorageClassFact = { name: 'standard', bindsImmediately: true, isDefault: true };
const podOf = (plan: SessionPlan) => plan.apply.find((o) => o.kind === 'Pod') as V1Pod;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The pod of `plan` as the cache shows it `ageMs` after its creation: placed on a node, not Ready yet (or Ready). */
function livePod(plan: SessionPlan, ageMs: number, ready = false): V1Pod {
  const pod = readyPod(podOf(plan), 'kwok-cpu-0', iso(NOW - 500));
  pod.metadata = { ...pod.metadata, creationTimestamp: new Date(NOW - ageMs) as never };
  if (!ready) pod.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] };
  return pod;
}

const stored = (s: AnalysisSession, plan: SessionPlan): AnalysisSession => ({ ...s, status: plan.status });

describe('a normal start writes its status once', () => {
  const s = makeSession('nb').obj();

  it('holds the status of each step while the start goes its course, and writes Ready at once', () => {
    const first = decideSession(s, facts(), config, NOW);
    expect(first.status.phase).toBe('Pending');
    expect(first.holdStatusMs).toBe(START_SETTLE_MS);
    expect(first.requeueAfterMs).toBeLessThanOrEqual(START_SETTLE_MS);
    const starting = decideSession(s, facts({ pod: livePod(first, 1000) }), config, NOW);
    expect(starting.status.phase).toBe('Starting');
    expect(starting.holdStatusMs).toBe(START_SETTLE_MS - 1000);
    const ready = decideSession(s, facts({ pod: livePod(first, 1500, true) }), config, NOW);
    expect(ready.status.phase).toBe('Running');
    expect(ready.holdStatusMs).toBeUndefined();
  });

  it('holds while a claim of an immediately binding class is being bound, until the claim\'s patience ends', () => {
    const first = decideSession(s, facts({ storageClasses: [immediate] }), config, NOW);
    expect(first.apply.map((o) => o.kind)).not.toContain('Pod');
    expect(first.holdStatusMs).toBe(START_SETTLE_MS);
    const claim: V1PersistentVolumeClaim = { ...(first.apply.find((o) => o.kind === 'PersistentVolumeClaim') as V1PersistentVolumeClaim), metadata: { name: 'nb-home', creationTimestamp: new Date(NOW - 2000) as never, ownerReferences: [{ apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', name: 'nb', uid: s.metadata.uid!, controller: true }] } };
    const waiting = decideSession(s, facts({ storageClasses: [immediate], children: { PersistentVolumeClaim: claim as never } }), config, NOW);
    expect(waiting.holdStatusMs).toBe(HOME_VOLUME_PATIENCE_MS - 2000);
    const aged = (ms: number) => ({ ...claim, metadata: { ...claim.metadata, creationTimestamp: new Date(NOW - ms) as never } }) as never;
    expect(decideSession(s, facts({ storageClasses: [immediate], children: { PersistentVolumeClaim: aged(30_000) } }), config, NOW).holdStatusMs).toBe(HOME_VOLUME_PATIENCE_MS - 30_000);
    // Past the patience the reason names the claim: written at once.
    const late = decideSession(s, facts({ storageClasses: [immediate], children: { PersistentVolumeClaim: aged(HOME_VOLUME_PATIENCE_MS + 1) } }), config, NOW);
    expect(late.status.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('HomeVolumePending');
    expect(late.holdStatusMs).toBeUndefined();
    // Once the claim is bound (a burst can take the platform longer than the patience), the start goes its usual
    // course from the stored HomeVolumePending: the pod's steps are held again, Ready is written at once.
    const waited = stored(s, late);
    const bound = { ...(aged(HOME_VOLUME_PATIENCE_MS + 2000) as V1PersistentVolumeClaim), spec: { ...claim.spec, volumeName: 'pv-1' }, status: { phase: 'Bound' } } as never;
    const created = decideSession(waited, facts({ storageClasses: [immediate], children: { PersistentVolumeClaim: bound } }), config, NOW);
    expect(created.apply.map((o) => o.kind)).toContain('Pod');
    expect(created.holdStatusMs).toBe(START_SETTLE_MS);
    const placed = decideSession(waited, facts({ storageClasses: [immediate], children: { PersistentVolumeClaim: bound }, pod: livePod(created, 1000) }), config, NOW);
    expect(placed.holdStatusMs).toBe(START_SETTLE_MS - 1000);
    expect(decideSession(waited, facts({ storageClasses: [immediate], children: { PersistentVolumeClaim: bound }, pod: livePod(created, 1500, true) }), config, NOW).holdStatusMs).toBeUndefined();
  });

  it('writes a start that takes longer than the settle time, and then each further step', () => {
    const first = decideSession(s, facts(), config, NOW);
    const slow = decideSession(s, facts({ pod: livePod(first, START_SETTLE_MS) }), config, NOW);
    expect(slow.holdStatusMs).toBeUndefined();
    // Once a start-in-progress status is stored, a step within the settle time of a (new) pod is held again.
    const after = decideSession(stored(s, slow), facts({ pod: livePod(first, 100) }), config, NOW);
    expect(after.holdStatusMs).toBeGreaterThan(0);
  });

  it('writes at once what is not the normal course: no node for the pod, a changed or resumed session, a quota admission', () => {
    const first = decideSession(s, facts(), config, NOW);
    const unschedulable = livePod(first, 1000);
    unschedulable.spec = { ...unschedulable.spec!, nodeName: undefined };
    unschedulable.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' }] };
    const noRoom = decideSession(s, facts({ pod: unschedulable }), config, NOW);
    expect(noRoom.status.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('Unschedulable');
    expect(noRoom.holdStatusMs).toBeUndefined();
    // Stored: the previous run, stopped; the session was set Running again (a new generation).
    const resumed = { ...s, metadata: { ...s.metadata, generation: 3 }, status: { observedGeneration: 2, phase: 'Stopped' as const } };
    expect(decideSession(resumed, facts(), config, NOW).holdStatusMs).toBeUndefined();
    const running = decideSession(s, facts({ pod: livePod(first, 60_000, true) }), config, NOW);
    const changed = { ...stored(s, running), metadata: { ...s.metadata, generation: 2 } };
    expect(decideSession(changed, facts({ pod: livePod(first, 100) }), config, NOW).holdStatusMs).toBeUndefined();
  });

  it('never holds a status whose quota part changed (the ledger records an admission at once)', () => {
    const quota = { apiVersion: 'panalysis.io/v1alpha1', kind: 'ResourceQuota', metadata: { name: 'default', namespace: 'proposal-1' }, spec: { hard: { sessions: 5 } }, status: { reservations: [{ uid: s.metadata.uid!, session: 'nb', run: 1, admittedAt: iso(NOW - 1000) }] } };
    const admitted = decideSession(s, facts({ quota: { kind: 'governed', quota: quota as never } }), config, NOW);
    expect(admitted.status.quota?.run).toBe(1);
    expect(admitted.holdStatusMs).toBeUndefined();
    const next = decideSession(stored(s, admitted), facts({ quota: { kind: 'governed', quota: quota as never }, pod: livePod(admitted, 500) }), config, NOW);
    expect(next.holdStatusMs).toBeGreaterThan(0);
  });
});
