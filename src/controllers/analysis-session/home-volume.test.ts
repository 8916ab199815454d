// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { decideSession } from './decide.ts';
import type { IdentityFact, SessionFacts } from './decide.ts';
import { eventFor } from './events.ts';
import { HOME_VOLUME_PATIENCE_MS, homeVolumeWait } from './home-volume.ts';
import type { StorageClassFact } from './home-volume.ts';
import { demoConfig, makeSession } from '../../../test/fixtures/session.ts';

const config = demoConfig();
const NOW = Date.parse('2026-11-25T12:00:00Z');
const alice: IdentityFact = { kind: 'found', identity: { user: 'alice', uid: 20001, gid: 20001, groups: [{ name: 'p1', gid: 30001 }] } };
const immediate: StorageClassFact = { name: 'standard', bindsImmediately: true, isDefault: true };
const onFirstUse: StorageClassFact = { name: 'local', bindsImmediately: false, isDefault: false };
const wanted: V1PersistentVolumeClaim = { metadata: { name: 'nb-home' }, spec: {} };
const claim = (phase: string | undefined, ageMs = 1000, storageClassName = 'standard'): V1PersistentVolumeClaim => ({
  metadata: { name: 'nb-home', creationTimestamp: new Date(NOW - ageMs) as unknown as Date },
  spec: { storageClassName },
  ...(phase ? { status: { phase } } : {}),
});

describe('homeVolumeWait', () => {
  it('lets the pod be created once the claim is bound, or at once where the class binds on first use or is unknown', () => {
    expect(homeVolumeWait(claim('Bound'), wanted, [immediate], NOW)).toBeUndefined();
    expect(homeVolumeWait(claim('Pending', 1000, 'local'), wanted, [immediate, onFirstUse], NOW)).toBeUndefined();
    expect(homeVolumeWait(claim('Pending', 1000, 'gone'), wanted, [immediate], NOW)).toBeUndefined();
    expect(homeVolumeWait(claim('Pending'), wanted, undefined, NOW)).toBeUndefined();
  });

  it('holds the pod while a claim of an immediately binding class (its own, or the default) is unbound', () => {
    expect(homeVolumeWait(claim('Pending'), wanted, [immediate], NOW)?.reason).toBe('Scheduling');
    expect(homeVolumeWait(undefined, wanted, [immediate], NOW)?.reason).toBe('Scheduling');
    expect(homeVolumeWait(undefined, { ...wanted, spec: { storageClassName: 'local' } }, [immediate, onFirstUse], NOW)).toBeUndefined();
  });

  it('names the claim and its class once it has waited longer than the patience allows', () => {
    const v = homeVolumeWait(claim('Pending', HOME_VOLUME_PATIENCE_MS + 5000), wanted, [immediate], NOW)!;
    expect(v.reason).toBe('HomeVolumePending');
    expect(v.message).toContain('claim nb-home of storage class standard');
    expect(v.message).toContain(`made at ${new Date(NOW - HOME_VOLUME_PATIENCE_MS - 5000).toISOString().replace('.000Z', 'Z')}`);
  });

  it('says the same while it keeps waiting, so that the status is written once and not at every look', () => {
    const c = claim('Pending', HOME_VOLUME_PATIENCE_MS + 5000);
    const first = homeVolumeWait(c, wanted, [immediate], NOW)!;
    expect(homeVolumeWait(c, wanted, [immediate], NOW + 47_000)).toEqual(first);
  });
});

describe('a session whose home claim is not bound yet', () => {
  const facts = (extra: Partial<SessionFacts>): SessionFacts => ({ identity: alice, credentials: { secret: 'tok' }, namespaceUid: 'ns-uid', ...extra });

  it('gets its claim, secret, service and policy now and its pod once the claim is bound, reporting Scheduling throughout', () => {
    const first = decideSession(makeSession('nb').obj(), facts({ storageClasses: [immediate] }), config, NOW);
    expect(first.apply.map((o) => o.kind)).toEqual(['Secret', 'PersistentVolumeClaim', 'NetworkPolicy']);
    expect(first.status.phase).toBe('Pending');
    expect(first.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'Scheduling' });
    expect(first.requeueAfterMs).toBeGreaterThan(0);
    const bound = decideSession(makeSession('nb').obj(), facts({ storageClasses: [immediate], children: { PersistentVolumeClaim: claim('Bound') as never } }), config, NOW);
    expect(bound.apply.map((o) => o.kind)).toContain('Pod');
    expect(bound.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'Scheduling', message: first.status.message });
  });

  it('reports the steps of a normal start without an Event, and Ready with one', () => {
    const scheduling = { conditions: [{ type: 'Ready', status: 'False', reason: 'Scheduling', message: 'm', lastTransitionTime: '' }] };
    const ready = { conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'm', lastTransitionTime: '' }] };
    expect(eventFor(undefined, scheduling as never)).toBeUndefined();
    expect(eventFor(scheduling as never, ready as never)?.reason).toBe('SessionReady');
  });
});
