// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { budgetActions, budgetView, decideAdmission, neverFits, usedBy } from './quota-admission.ts';
import type { AdmissionInput, Demand } from './quota-admission.ts';
import { envelopeOf, limitsInForce } from './quota-limits.ts';
import type { QuotaBudgets, Reservation, ResourceQuotaSpec } from '../api/v1alpha1/resource-quota.ts';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const HOUR = 3_600_000;
const GI = 2 ** 30;
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/** A CPU-only session of alice created `i` seconds after 10:00, asking for 1 CPU, 4Gi and 8h. */
const demand = (i: number, extra: Partial<Demand> = {}): Demand => ({
  uid: `uid-${i}`, session: `s-${String(i).padStart(3, '0')}`, user: 'alice', generation: 1,
  createdAt: Date.parse('2026-11-30T10:00:00Z') + i * 1000, cpuMillis: 1000, memoryBytes: 4 * GI, gpus: 0, lifetimeMs: 8 * HOUR, ...extra,
});

const held = (i: number, extra: Partial<Reservation> = {}): Reservation => ({
  uid: `held-${i}`, session: `h-${i}`, user: 'bob', run: i, cpuMillis: 1000, memoryBytes: 4 * GI, gpus: 0, admittedAt: iso(NOW - HOUR), ...extra,
});

/** The input the quota controller passes for `spec` at NOW. */
const input = (spec: ResourceQuotaSpec, pending: Demand[], extra: Partial<AdmissionInput> = {}): AdmissionInput => {
  const reservations = extra.reservations ?? [];
  return {
    quota: 'default', onExceeded: spec.onExceeded ?? 'Queue', inForce: limitsInForce(spec, NOW), envelope: envelopeOf(spec, NOW),
    reservations, pending, budgets: budgetView(spec.budgets, { gpuSeconds: 0, cpuMilliSeconds: 0 }, reservations, NOW), nextRun: 1, now: NOW, ...extra,
  };
};

const sessionsOf = (list: Array<{ session: string }>): string[] => list.map((x) => x.session);

describe('usedBy', () => {
  it('adds up what the reservations hold, GPUs per flavour', () => {
    expect(usedBy([held(1, { gpus: 2, flavour: 'a100' }), held(2, { cpuMillis: 500 }), held(3, { gpus: 1, flavour: 'h100' }), held(4, { gpus: 1, flavour: 'a100' })])).toEqual({
      sessions: 4, cpuMillis: 3500, memoryBytes: 16 * GI, gpus: 4, gpusPerFlavour: { a100: 3, h100: 1 },
    });
  });

  it('is zero for no reservation, and a flavour without GPUs counts nothing', () => {
    expect(usedBy([])).toEqual({ sessions: 0, cpuMillis: 0, memoryBytes: 0, gpus: 0 });
    expect(usedBy([held(1, { flavour: 'a100' })]).gpusPerFlavour).toBeUndefined();
  });
});

describe('budgetView', () => {
  it('adds the running reservations up to now to what finished runs consumed', () => {
    const view = budgetView({ gpuHours: 10, cpuHours: 2 }, { gpuSeconds: 100, cpuMilliSeconds: 5000 }, [held(1, { gpus: 2, cpuMillis: 500 }), held(2, { cpuMillis: 250, admittedAt: iso(NOW - 60_000) })], NOW);
    expect(view).toEqual({
      gpu: { limitSeconds: 36_000, usedSeconds: 100 + 2 * 3600, rate: 2 },
      cpu: { limitMilliSeconds: 7_200_000, usedMilliSeconds: 5000 + 500 * 3600 + 250 * 60, rate: 750 },
    });
  });

  it('has no view of a budget that is not set', () => {
    expect(budgetView(undefined, { gpuSeconds: 5, cpuMilliSeconds: 5 }, [held(1, { gpus: 1 })], NOW)).toEqual({});
    expect(budgetView({ gpuHours: 1 }, { gpuSeconds: 0, cpuMilliSeconds: 0 }, [], NOW).cpu).toBeUndefined();
  });
});

describe('neverFits', () => {
  const twoGpus = envelopeOf({ hard: { gpus: 2, maxSessionDuration: '8h' } }, NOW);

  it('refuses 3 GPUs against gpus: 2, naming the field and the limit', () => {
    const never = neverFits(demand(1, { gpus: 3 }), twoGpus, 'default');
    expect(never?.reason).toBe('ExceedsQuota');
    expect(never?.message).toContain('spec.resources.gpu.count');
    expect(never?.message).toContain('gpus: 2');
    expect(never?.message).toContain('ask for at most 2');
    expect(neverFits(demand(1, { gpus: 2, lifetimeMs: 8 * HOUR }), twoGpus, 'default')).toBeUndefined();
  });

  it('refuses a lifetime above maxSessionDuration', () => {
    const never = neverFits(demand(1, { lifetimeMs: 9 * HOUR }), twoGpus, 'default');
    expect(never?.message).toContain('spec.lifetime');
    expect(never?.message).toContain('maxSessionDuration: 8h');
  });

  it.each([
    ['a flavour limit', { gpusPerFlavour: { a100: 1 } }, { gpus: 2, flavour: 'a100' }, 'gpusPerFlavour.a100: 1'],
    ['a CPU limit', { cpu: '4' }, { cpuMillis: 4500 }, 'cpu: 4'],
    ['a memory limit', { memory: '8Gi' }, { memoryBytes: 16 * GI }, 'memory: 8Gi'],
    ['sessions: 0', { sessions: 0 }, {}, 'sessions: 0'],
  ] as const)('refuses what exceeds %s at all times', (_, hard, ask, limit) => {
    expect(neverFits(demand(1, ask), envelopeOf({ hard }, NOW), 'default')?.message).toContain(limit);
  });

  it('lets a request wait that a future window allows', () => {
    const spec: ResourceQuotaSpec = { hard: { gpus: 2 }, windows: [{ name: 'beamtime', start: iso(NOW + HOUR), end: iso(NOW + 9 * HOUR), hard: { gpus: 4 } }] };
    expect(neverFits(demand(1, { gpus: 3 }), envelopeOf(spec, NOW), 'default')).toBeUndefined();
    const decision = decideAdmission(input(spec, [demand(1, { gpus: 3 })]));
    expect(decision.rejected).toEqual([]);
    expect(decision.waiting).toMatchObject([{ session: 's-001', reason: 'GpuLimitReached' }]);
  });

});

describe('decideAdmission', () => {
  const fifty = Array.from({ length: 50 }, (_, i) => demand(i + 1));

  it('admits 4 of 50 against sessions: 4 in creation order and queues 46 with their positions', () => {
    const decision = decideAdmission(input({ hard: { sessions: 4 } }, [...fifty].reverse(), { nextRun: 7 }));
    expect(sessionsOf(decision.admitted)).toEqual(['s-001', 's-002', 's-003', 's-004']);
    expect(decision.admitted.map((r) => r.run)).toEqual([7, 8, 9, 10]);
    expect(decision.nextRun).toBe(11);
    expect(decision.admitted[0]).toEqual({ uid: 'uid-1', session: 's-001', user: 'alice', run: 7, cpuMillis: 1000, memoryBytes: 4 * GI, gpus: 0, admittedAt: '2026-11-30T12:00:00Z' });
    expect(decision.waiting).toHaveLength(46);
    expect(decision.waiting.map((w) => w.position)).toEqual(Array.from({ length: 46 }, (_, i) => i + 1));
    expect(sessionsOf(decision.waiting)).toEqual(sessionsOf(fifty.slice(4)));
    expect(new Set(decision.waiting.map((w) => w.reason))).toEqual(new Set(['SessionLimitReached']));
    expect(decision.waiting[0]!.message).toContain('4 of 4 sessions');
    expect(decision.waiting[0]!.message).toContain('The session starts in creation order when room frees up.');
    expect(decision.waiting[0]!.since).toBe('2026-11-30T12:00:00Z');
    expect(decision.rejected).toEqual([]);
  });

  it('orders by creation time, not by name', () => {
    const decision = decideAdmission(input({ hard: { sessions: 1 } }, [demand(2, { session: 'alpha' }), demand(1, { session: 'zeta' })]));
    expect(sessionsOf(decision.admitted)).toEqual(['zeta']);
  });

  it('keeps when a session first waited', () => {
    const decision = decideAdmission(input({ hard: { sessions: 0 } }, [demand(1, { waitingSince: '2026-11-30T11:00:00Z' })], { envelope: {} }));
    expect(decision.waiting[0]!.since).toBe('2026-11-30T11:00:00Z');
  });

  it('refuses the 46 under Reject, with the message of the limit', () => {
    const decision = decideAdmission(input({ hard: { sessions: 4 }, onExceeded: 'Reject' }, fifty));
    expect(decision.admitted).toHaveLength(4);
    expect(decision.waiting).toEqual([]);
    expect(sessionsOf(decision.rejected)).toEqual(sessionsOf(fifty.slice(4)));
    expect(decision.rejected[0]).toMatchObject({ uid: 'uid-5', generation: 1, reason: 'SessionLimitReached' });
    expect(decision.rejected[0]!.message).toContain('spec.onExceeded: Reject');
    expect(decision.rejected[0]!.message).toContain('4 of 4 sessions');
  });

  it('refuses at once, even under Queue, what could never fit', () => {
    const decision = decideAdmission(input({ hard: { gpus: 2 } }, [demand(1, { gpus: 3 }), demand(2, { gpus: 2 })]));
    expect(decision.rejected).toMatchObject([{ session: 's-001', reason: 'ExceedsQuota' }]);
    expect(sessionsOf(decision.admitted)).toEqual(['s-002']);
  });

  it('lets a per-user limit hold only that user', () => {
    const pending = [demand(1), demand(2), demand(3, { user: 'bob' }), demand(4)];
    const decision = decideAdmission(input({ hard: { sessionsPerUser: 1 } }, pending));
    expect(sessionsOf(decision.admitted)).toEqual(['s-001', 's-003']);
    expect(decision.waiting).toMatchObject([{ session: 's-002', reason: 'UserSessionLimitReached', position: 1 }, { session: 's-004', position: 2 }]);
    expect(decision.waiting[0]!.message).toContain('alice runs 1 of 1 session');
  });

  it('does not hold a CPU-only session behind a waiting GPU session, but does hold a later GPU session', () => {
    const reservations = [held(1, { gpus: 1 })];
    const pending = [demand(1, { gpus: 1 }), demand(2), demand(3, { gpus: 1, cpuMillis: 0, memoryBytes: 0 })];
    const decision = decideAdmission(input({ hard: { gpus: 1 } }, pending, { reservations, nextRun: 2 }));
    expect(sessionsOf(decision.admitted)).toEqual(['s-002']);
    expect(decision.waiting).toMatchObject([{ session: 's-001', reason: 'GpuLimitReached' }, { session: 's-003' }]);
  });

  it('holds a later GPU session of another flavour only behind the limit they share', () => {
    const reservations = [held(1, { gpus: 1, flavour: 'a100' })];
    const pending = [demand(1, { gpus: 1, flavour: 'a100' }), demand(2, { gpus: 1, flavour: 'h100' })];
    const decision = decideAdmission(input({ hard: { gpus: 4, gpusPerFlavour: { a100: 1 } } }, pending, { reservations, nextRun: 2 }));
    expect(sessionsOf(decision.admitted)).toEqual(['s-002']);
    expect(decision.admitted[0]!.flavour).toBe('h100');
    expect(decision.waiting).toMatchObject([{ session: 's-001', reason: 'GpuFlavourLimitReached' }]);
  });

  it('holds only GPU sessions once the GPU budget is used up, not a second before', () => {
    const spec: ResourceQuotaSpec = { budgets: { gpuHours: 1 } };
    const budgets = budgetView(spec.budgets, { gpuSeconds: 3600, cpuMilliSeconds: 0 }, [], NOW);
    const decision = decideAdmission(input(spec, [demand(1, { gpus: 1 }), demand(2)], { budgets }));
    expect(sessionsOf(decision.admitted)).toEqual(['s-002']);
    expect(decision.waiting).toMatchObject([{ session: 's-001', reason: 'GpuBudgetExhausted' }]);
    expect(decision.waiting[0]!.message).toContain('1.0 of 1.0 GPU-hours');
    const leftover = budgetView(spec.budgets, { gpuSeconds: 3599, cpuMilliSeconds: 0 }, [], NOW);
    expect(sessionsOf(decideAdmission(input(spec, [demand(1, { gpus: 1 })], { budgets: leftover })).admitted)).toEqual(['s-001']);
  });

  it('never admits a session that already holds a reservation, nor the same session twice', () => {
    const mine = held(1, { uid: 'uid-1', session: 's-001', user: 'alice' });
    const decision = decideAdmission(input({}, [demand(1), demand(2), demand(2)], { reservations: [mine], nextRun: 2 }));
    expect(sessionsOf(decision.admitted)).toEqual(['s-002']);
    expect(decision.admitted[0]!.run).toBe(2);
    expect(decision.waiting).toEqual([]);
    expect(decision.rejected).toEqual([]);
  });

  it('keeps reservations above lowered limits and admits nothing more until there is room', () => {
    const reservations = [1, 2, 3, 4].map((i) => held(i, { gpus: 1 }));
    const decision = decideAdmission(input({ hard: { sessions: 2, gpus: 1 } }, [demand(1), ...reservations.map((r, i) => demand(10 + i, { uid: r.uid }))], { reservations, nextRun: 5 }));
    expect(decision.admitted).toEqual([]);
    expect(decision.rejected).toEqual([]);
    expect(decision.waiting).toMatchObject([{ session: 's-001', reason: 'SessionLimitReached' }]);
    expect(decision.waiting[0]!.message).toContain('runs 4 of 2 sessions');
    expect(decision.nextRun).toBe(5);
  });

  it('admits a session asking nothing of a limit that lowered limits left overfull', () => {
    const reservations = [held(1, { gpus: 2 })];
    expect(sessionsOf(decideAdmission(input({ hard: { gpus: 1 } }, [demand(1)], { reservations, nextRun: 2 })).admitted)).toEqual(['s-001']);
  });

  it('switches the limits at a window boundary', () => {
    const spec: ResourceQuotaSpec = { hard: { sessions: 1 }, windows: [{ name: 'beamtime', start: iso(NOW), end: iso(NOW + 8 * HOUR), hard: { sessions: 3 } }] };
    const before = decideAdmission({ ...input(spec, fifty.slice(0, 3)), inForce: limitsInForce(spec, NOW - 1) });
    expect(before.admitted).toHaveLength(1);
    expect(before.waiting[0]!.message).toContain('sessions in spec.hard of quota default');
    expect(decideAdmission(input(spec, fifty.slice(0, 3))).admitted).toHaveLength(3);
  });

  it('records the profile, type and the flavour of GPU sessions only', () => {
    const decision = decideAdmission(input({}, [demand(1, { profile: 'gpu-large', type: 'jupyter', gpus: 1, flavour: 'a100' }), demand(2, { flavour: 'a100' })]));
    expect(decision.admitted[0]).toMatchObject({ profile: 'gpu-large', type: 'jupyter', flavour: 'a100', gpus: 1 });
    expect(decision.admitted[1]!.flavour).toBeUndefined();
  });
});

describe('budgetActions', () => {
  const GRACE = 15 * 60_000;
  const tenGpuHours: QuotaBudgets = { gpuHours: 10 };
  /** Two GPUs running for an hour on top of `consumed` GPU-seconds. */
  const running = [held(1, { gpus: 2 }), held(2)];
  const act = (budgets: QuotaBudgets, consumed: number, warned = { gpu: 0, cpu: 0 }, exhaustedAt?: number, now = NOW) =>
    budgetActions(budgets, budgetView(budgets, { gpuSeconds: consumed, cpuMilliSeconds: 0 }, running, now), warned, exhaustedAt, running, GRACE, 'default', now);

  it('warns at 80% once, and says when 100% comes at the current rate', () => {
    const first = act(tenGpuHours, 28_800 - 7200);
    expect(first.warn).toMatchObject([{ budget: 'gpu', percent: 80 }]);
    expect(first.warn[0]!.message).toContain('80% of its GPU budget (8.0 of 10 GPU-hours');
    expect(first.gpuWarned).toBe(80);
    expect(first.nextCheckMs).toBe((7200 / 2) * 1000);
    expect(first.exhaustedAt).toBeUndefined();
    expect(act(tenGpuHours, 28_800 - 7200, { gpu: 80, cpu: 0 }).warn).toEqual([]);
  });

  it('says when 80% comes at the current rate', () => {
    expect(act(tenGpuHours, 0).nextCheckMs).toBe(((28_800 - 7200) / 2) * 1000);
    expect(act(tenGpuHours, 0).warn).toEqual([]);
  });

  it('warns at 80% and 100% once each when both are crossed at once, and marks the budget exhausted', () => {
    const out = act(tenGpuHours, 36_000);
    expect(out.warn.map((w) => w.percent)).toEqual([80, 100]);
    expect(out.warn[1]!.message).toContain('No new session that needs it starts.');
    expect(out.exhaustedAt).toBe(NOW);
    expect(act(tenGpuHours, 36_000, { gpu: 100, cpu: 0 }, NOW - 1000).warn).toEqual([]);
    expect(act(tenGpuHours, 36_000, { gpu: 100, cpu: 0 }, NOW - 1000).exhaustedAt).toBe(NOW - 1000);
  });

  it('times the CPU budget in core-seconds', () => {
    const cpuHour: QuotaBudgets = { cpuHours: 1 };
    const out = budgetActions(cpuHour, budgetView(cpuHour, { gpuSeconds: 0, cpuMilliSeconds: 0 }, [held(1, { cpuMillis: 500, admittedAt: iso(NOW) })], NOW), { gpu: 0, cpu: 0 }, undefined, [], GRACE, 'default', NOW);
    expect(out.nextCheckMs).toBe((2880 / 0.5) * 1000);
  });

  it('under Stop, stops the GPU sessions only after the grace period, and says when', () => {
    const stop: QuotaBudgets = { gpuHours: 10, onExhausted: 'Stop' };
    const exhaustedAt = NOW - 10 * 60_000;
    const early = act(stop, 36_000, { gpu: 100, cpu: 0 }, exhaustedAt);
    expect(early.stop).toEqual([]);
    expect(early.nextCheckMs).toBe(5 * 60_000);
    const late = act(stop, 36_000, { gpu: 100, cpu: 0 }, exhaustedAt, exhaustedAt + GRACE);
    expect(sessionsOf(late.stop)).toEqual(['h-1']);
    expect(act(stop, 36_000).warn[1]!.message).toContain('stop after 15m; homes are kept');
  });

  it('does not stop a session already asked to stop', () => {
    const stop: QuotaBudgets = { gpuHours: 1, onExhausted: 'Stop' };
    const asked = [held(1, { gpus: 1, stop: { reason: 'BudgetExhausted', message: 'm', at: iso(NOW) } })];
    expect(budgetActions(stop, budgetView(stop, { gpuSeconds: 0, cpuMilliSeconds: 0 }, asked, NOW), { gpu: 100, cpu: 0 }, 0, asked, GRACE, 'default', NOW).stop).toEqual([]);
  });

  it('never stops under Warn', () => {
    const out = act({ gpuHours: 10, onExhausted: 'Warn' }, 360_000, { gpu: 100, cpu: 0 }, NOW - 30 * HOUR);
    expect(out.stop).toEqual([]);
  });

  it('clears exhaustedAt and the warnings when the budget is raised', () => {
    const out = act({ gpuHours: 100 }, 36_000, { gpu: 100, cpu: 0 }, NOW - HOUR);
    expect(out.exhaustedAt).toBeUndefined();
    expect(out.gpuWarned).toBe(0);
    expect(out.warn).toEqual([]);
  });

  // A budget used up (warned at 100%) and then raised to 12 GPU-hours stands at 83%: using it up again warns again.
  it('warns again at 100% when a raised budget is used up again', () => {
    const raised: QuotaBudgets = { gpuHours: 12, onExhausted: 'Stop' };
    const afterRaise = act(raised, 36_000 - 7200, { gpu: 100, cpu: 0 });
    expect(afterRaise.exhaustedAt).toBeUndefined();
    const usedUpAgain = act(raised, 36_000, { gpu: afterRaise.gpuWarned, cpu: 0 }, afterRaise.exhaustedAt);
    expect(usedUpAgain.exhaustedAt).toBe(NOW);
    expect(usedUpAgain.warn).toMatchObject([{ budget: 'gpu', percent: 100 }]);
  });
});

describe('decideAdmission and the session duration in force', () => {
  it('keeps a session longer than the limit in force waiting for the window that allows it, without holding up shorter ones', () => {
    const spec: ResourceQuotaSpec = {
      hard: { maxSessionDuration: '8h' },
      windows: [{ name: 'beamtime', start: iso(NOW + HOUR), end: iso(NOW + 10 * HOUR), hard: { maxSessionDuration: '12h' } }],
    };
    const decision = decideAdmission(input(spec, [demand(1, { lifetimeMs: 12 * HOUR }), demand(2)]));
    expect(sessionsOf(decision.admitted)).toEqual(['s-002']);
    expect(decision.waiting).toMatchObject([{ session: 's-001', reason: 'LifetimeAboveLimit' }]);
    expect(decision.waiting[0]!.message).toMatch(/spec\.lifetime: 12h is longer than the 8h sessions may run now \(maxSessionDuration in spec\.hard of quota default\)/);
    expect(decision.rejected).toEqual([]);
  });
});
