// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideLifecycle, lifecyclePolicy } from './lifecycle.ts';
import type { LifecycleInput, LifecyclePolicy } from './lifecycle.ts';
import { demoConfig } from '../../test/fixtures/session.ts';

const H = 3600_000;
const T0 = Date.parse('2026-12-01T08:00:00Z');
const policy: LifecyclePolicy = {
  lifetimeMs: 8 * H, maxLifetimeMs: 72 * H, maxLifetimeField: 'defaults.maxLifetime', renewalStepMs: 2 * H, maxRenewals: 3, maxTotalMs: 12 * H,
  renewalField: 'lifecycle.renewals', warningsMs: [H, 600_000], afterBeamtimeMs: 24 * H, retentionMs: 30 * 24 * H,
};
const decide = (input: Partial<LifecycleInput>, p: LifecyclePolicy = policy) => decideLifecycle({ now: T0, ...input }, p);
const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString().replace('.000Z', 'Z'));

describe('decideLifecycle', () => {
  it.each<[string, Partial<LifecycleInput>, { stop?: string; expiresAt?: string; reason?: string }]>([
    ['no run yet: may start, no end', {}, {}],
    ['stopped: no pod, whatever else', { state: 'Stopped', beamtimeEnd: T0 + 100 * H }, { stop: 'Stopped', expiresAt: '2026-12-06T12:00:00Z' }],
    ['a run ends at its start plus the lifetime', { runStartedAt: T0 - H }, { expiresAt: '2026-12-01T15:00:00Z' }],
    ['spec.lifetime sets the length', { runStartedAt: T0 - H, lifetime: '2h' }, { expiresAt: '2026-12-01T09:00:00Z' }],
    ['at the end: expired', { runStartedAt: T0 - 8 * H }, { stop: 'Expired', expiresAt: '2026-12-01T08:00:00Z', reason: 'LifetimeExpired' }],
    ['each renewal adds the step', { runStartedAt: T0 - 8 * H, renewals: 1 }, { expiresAt: '2026-12-01T10:00:00Z' }],
    ['renewals stop at maxTotal', { runStartedAt: T0, renewals: 3 }, { expiresAt: '2026-12-01T20:00:00Z' }],
    ['renewals stop at the quota maximum', { runStartedAt: T0, renewals: 1, quotaMaxMs: 9 * H }, { expiresAt: '2026-12-01T17:00:00Z' }],
    ['the beamtime end plus grace comes first', { runStartedAt: T0, beamtimeEnd: T0 - 20 * H }, { expiresAt: '2026-12-01T12:00:00Z' }],
    ['past the beamtime end plus grace: no run starts', { beamtimeEnd: T0 - 25 * H }, { stop: 'Expired', expiresAt: '2026-12-01T07:00:00Z', reason: 'BeamtimeEnded' }],
    ['beamtime unknown: the stored end bounds a renewal', { runStartedAt: T0 - H, renewals: 1, beamtimeEnd: 'unknown', storedExpiresAt: T0 + 7 * H }, { expiresAt: '2026-12-01T15:00:00Z' }],
  ])('%s', (_what, input, want) => {
    const d = decide(input);
    expect(d.stop).toBe(want.stop);
    expect(iso(d.expiresAt)).toBe(want.expiresAt);
    if (want.reason) expect(d.expired?.reason).toBe(want.reason);
  });

  it('warns at each lead time with a reason of its own, and looks again at the next one', () => {
    const start = T0 - 8 * H;
    const before = decide({ runStartedAt: start, now: T0 - H - 1 });
    expect(before.warning).toBeUndefined();
    expect(before.nextCheckAt).toBe(T0 - H);
    const first = decide({ runStartedAt: start, now: T0 - H });
    expect(first.warning).toMatchObject({ status: 'True', reason: 'ExpiresWithin1h' });
    expect(first.warning!.message).toContain('renew it (spec.renewals)');
    expect(first.nextCheckAt).toBe(T0 - 600_000);
    expect(decide({ runStartedAt: start, now: T0 - 300_000 })).toMatchObject({ warning: { reason: 'ExpiresWithin10m' }, nextCheckAt: T0 });
    // The same reason (and message) between two lead times: no status change per reconcile.
    expect(decide({ runStartedAt: start, now: T0 - 30 * 60_000 }).warning).toEqual(decide({ runStartedAt: start, now: T0 - 50 * 60_000 }).warning);
  });

  it('applies renewals within policy and names the limit of those it does not', () => {
    expect(decide({ runStartedAt: T0, renewals: 2 }).renewal).toMatchObject({ status: 'True', reason: 'Renewed' });
    expect(decide({ runStartedAt: T0, renewals: 4 }, { ...policy, maxTotalMs: 72 * H }).renewal).toMatchObject({ status: 'False', reason: 'RenewalLimit', message: expect.stringContaining('lifecycle.renewals.maxCount') });
    expect(decide({ runStartedAt: T0, renewals: 3 }).renewal!.message).toContain('lifecycle.renewals.maxTotal');
    expect(decide({ runStartedAt: T0, renewals: 1, quotaMaxMs: 9 * H }).renewal!.message).toContain('maxSessionDuration');
    expect(decide({ runStartedAt: T0 }).renewal).toBeUndefined();
  });

  it('refuses a lifetime above the maximum, naming the field', () => {
    expect(decide({ lifetime: '80h' }).refusal).toEqual({ reason: 'LifetimeTooLong', message: 'spec.lifetime: 80h is above the maximum of 3d (defaults.maxLifetime); ask for at most 3d.' });
  });

  it('deletes a stopped session after the retention period', () => {
    expect(decide({ state: 'Stopped', stoppedAt: T0 - H })).toMatchObject({ deleteAt: T0 - H + 30 * 24 * H, nextCheckAt: T0 - H + 30 * 24 * H });
    expect(decide({ state: 'Stopped', stoppedAt: T0 - H }, { ...policy, retentionMs: undefined }).deleteAt).toBeUndefined();
    expect(decide({ stoppedAt: T0 - H, runStartedAt: T0 }).deleteAt).toBeUndefined();
  });

  it('reads the policy from the configuration, a profile over the defaults', () => {
    const config = demoConfig();
    const p = lifecyclePolicy({ ...config, lifecycle: { ...config.lifecycle, afterBeamtime: '1d', retention: '30d' }, profiles: config.profiles.map((x) => (x.name === 'jupyter-scipy' ? { ...x, lifecycle: { maxLifetime: '12h', renewals: { step: '1h', maxCount: 1 } } } : x)) }, 'jupyter-scipy');
    expect(p).toMatchObject({ maxLifetimeMs: 12 * H, maxLifetimeField: 'profiles[jupyter-scipy].lifecycle.maxLifetime', renewalStepMs: H, maxRenewals: 1, maxTotalMs: 12 * H, warningsMs: [H, 600_000], afterBeamtimeMs: 24 * H, retentionMs: 30 * 24 * H });
  });
});

describe('decideLifecycle properties', () => {
  const arbInput = fc.record({
    runStartedAt: fc.option(fc.integer({ min: T0 - 100 * H, max: T0 }), { nil: undefined }),
    lifetime: fc.constantFrom(undefined, '1h', '8h', '30h'),
    renewals: fc.option(fc.nat(6), { nil: undefined }),
    quotaMaxMs: fc.option(fc.integer({ min: H, max: 100 * H }), { nil: undefined }),
    beamtimeEnd: fc.option(fc.integer({ min: T0 - 100 * H, max: T0 + 100 * H }), { nil: undefined }),
    now: fc.integer({ min: T0 - 100 * H, max: T0 + 100 * H }),
  });

  it('the end of a run never depends on the time, never passes the maximum total or the beamtime end plus grace', () => {
    fc.assert(fc.property(arbInput, fc.integer({ min: T0 - 100 * H, max: T0 + 100 * H }), (input, later) => {
      const d = decideLifecycle(input, policy);
      expect(decideLifecycle({ ...input, now: later }, policy).expiresAt).toBe(d.expiresAt);
      if (input.runStartedAt !== undefined) expect(d.expiresAt!).toBeLessThanOrEqual(input.runStartedAt + Math.max(policy.maxTotalMs, input.lifetime === '30h' ? 30 * H : 0));
      if (input.beamtimeEnd !== undefined) expect(d.expiresAt!).toBeLessThanOrEqual(input.beamtimeEnd + policy.afterBeamtimeMs!);
      if (d.expiresAt !== undefined && input.now >= d.expiresAt) expect(d.stop).toBe('Expired');
    }), { numRuns: 500 });
  });

  it('an outage of the proposal source never moves the end later', () => {
    fc.assert(fc.property(arbInput, fc.nat(6), (input, moreRenewals) => {
      const known = decideLifecycle(input, policy);
      if (input.runStartedAt === undefined || known.expiresAt === undefined) return;
      const during = decideLifecycle({ ...input, renewals: (input.renewals ?? 0) + moreRenewals, beamtimeEnd: 'unknown', storedExpiresAt: known.expiresAt }, policy);
      expect(during.expiresAt!).toBeLessThanOrEqual(known.expiresAt);
    }), { numRuns: 500 });
  });
});
