// SPDX-License-Identifier: Apache-2.0
/**
 * A model of one proposal: its quota, its sessions and the quota controller's reconcile,
 * driven by random interleavings of create, stop, resume, delete, quota edits, clock
 * advances and operator restarts. The reconcile does what the controller does: release the
 * runs of sessions gone or stopped (charging them), then decide with the sessions that wait.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { budgetView, byCreation, decideAdmission } from './quota-admission.ts';
import type { Demand } from './quota-admission.ts';
import { chargeOf, envelopeOf, limitsInForce } from './quota-limits.ts';
import { formatTime } from '../runtime/conditions.ts';
import type { Limits } from './quota-limits.ts';
import type { QuotaLimits, Rejection, Reservation, ResourceQuotaSpec, Waiting } from '../api/v1alpha1/resource-quota.ts';

const GI = 2 ** 30;
const QUARTER = 15 * 60_000;
const START = Date.parse('2026-11-30T08:00:00Z');

interface Session { uid: string; name: string; user: string; cpuMillis: number; memoryBytes: number; gpus: number; flavour?: string; lifetimeMs: number; createdAt: number; generation: number; stopped: boolean }

/** The quota's status as the API server keeps it: all that survives an operator restart. */
interface Status { reservations: Reservation[]; nextRun: number; gpuSecondsConsumed: number; cpuMilliSecondsConsumed: number; waiting: Waiting[]; rejected: Rejection[] }

interface World {
  now: number;
  spec: ResourceQuotaSpec;
  sessions: Map<string, Session>;
  status: Status;
  created: number;
  /** What the test knows independently of the policy. */
  runsSeen: Set<number>;
  expectedGpuSeconds: number;
  expectedCpuMilliSeconds: number;
  lastGpuTotal: number;
}

type Action =
  | { kind: 'create'; user: string; cpuMillis: number; memoryBytes: number; gpus: number; flavour?: string; lifetimeMs: number }
  | { kind: 'stop' | 'resume' | 'delete'; pick: number }
  | { kind: 'edit'; spec: ResourceQuotaSpec & { windowsAt?: Array<[number, number, QuotaLimits | undefined]> } }
  | { kind: 'advance'; seconds: number }
  | { kind: 'restart' }
  | { kind: 'reconcile'; seed: number; duplicate: boolean };

/** A count limit, rarely 0 (0 forbids, so every session asking for it is refused at once). */
const count = (max: number) => fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 5, arbitrary: fc.integer({ min: 1, max }) });

const limitsArb: fc.Arbitrary<QuotaLimits> = fc.record({
  sessions: count(6),
  sessionsPerUser: count(3),
  cpu: fc.constantFrom('0', '1', '2', '1500m', '4', '8', '8'),
  memory: fc.constantFrom('0', '4Gi', '8Gi', '16Gi', '16Gi'),
  gpus: count(4),
  gpusPerFlavour: fc.record({ a100: count(3), h100: count(3) }, { requiredKeys: [] }),
  maxSessionDuration: fc.constantFrom('1h', '8h', '12h', '12h'),
}, { requiredKeys: [] });

/** Up to two windows, in quarter hours from now, that do not overlap (the schema refuses overlaps). */
const windowsArb = fc.array(fc.tuple(fc.integer({ min: -8, max: 16 }), fc.integer({ min: 1, max: 16 }), fc.option(limitsArb, { nil: undefined })), { maxLength: 2 })
  .map((ws) => {
    let cursor = -Infinity;
    return ws.map(([gap, length, hard]): [number, number, QuotaLimits | undefined] => {
      const start = Number.isFinite(cursor) ? cursor + Math.abs(gap) : gap;
      cursor = start + length;
      return [start, cursor, hard];
    });
  });

const specArb = fc.record({
  hard: fc.option(limitsArb, { nil: undefined }),
  budgets: fc.option(fc.record({ gpuHours: fc.constantFrom(0, 0.5, 2, 10), cpuHours: fc.constantFrom(1, 20) }, { requiredKeys: [] }), { nil: undefined }),
  onExceeded: fc.constantFrom('Queue', 'Queue', 'Reject') as fc.Arbitrary<'Queue' | 'Reject'>,
  windowsAt: windowsArb,
}, { requiredKeys: ['onExceeded', 'windowsAt'] });

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('create' as const), user: fc.constantFrom('alice', 'bob', 'carol'), cpuMillis: fc.constantFrom(0, 500, 1000, 2000), memoryBytes: fc.constantFrom(0, 2 * GI, 4 * GI), gpus: fc.integer({ min: 0, max: 3 }), flavour: fc.constantFrom('a100', 'h100', undefined), lifetimeMs: fc.constantFrom(1, 4, 8, 12).map((h) => h * 3_600_000) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('stop' as const, 'resume' as const, 'delete' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('edit' as const), spec: specArb }) },
  // Whole seconds: the instants the controller writes (admittedAt, the end of a usage record) have second precision.
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), seconds: fc.integer({ min: 1, max: 4 * 3600 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('reconcile' as const), seed: fc.integer(), duplicate: fc.boolean() }) },
);

const specAt = (edit: ResourceQuotaSpec & { windowsAt?: Array<[number, number, QuotaLimits | undefined]> }, now: number): ResourceQuotaSpec => {
  const { windowsAt, ...spec } = edit;
  const base = Math.floor(now / QUARTER) * QUARTER;
  const windows = (windowsAt ?? []).map(([s, e, hard], i) => ({ name: `w${i}`, start: formatTime(base + s * QUARTER), end: formatTime(base + e * QUARTER), ...(hard ? { hard } : {}) }));
  return windows.length > 0 ? { ...spec, windows } : spec;
};

/** A deterministic shuffle: the policy must not depend on the order it is given. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let x = seed | 1;
  for (let i = out.length - 1; i > 0; i--) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    const j = Math.abs(x) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const sum = (rs: readonly Reservation[], f: (r: Reservation) => number): number => rs.reduce((acc, r) => acc + f(r), 0);

/** (a) What `added` brings fits the limits in force on top of `held`, for every limit it asks something of. */
function expectWithinLimits(held: readonly Reservation[], added: readonly Reservation[], l: Limits): void {
  if (added.length === 0) return;
  const all = [...held, ...added];
  const within = (limit: number | undefined, f: (r: Reservation) => number, what: string) => {
    if (limit !== undefined && sum(added, f) > 0) expect(sum(all, f), what).toBeLessThanOrEqual(limit);
  };
  within(l.sessions, () => 1, 'sessions');
  within(l.cpuMillis, (r) => r.cpuMillis, 'cpu');
  within(l.memoryBytes, (r) => r.memoryBytes, 'memory');
  within(l.gpus, (r) => r.gpus, 'gpus');
  for (const user of new Set(added.map((r) => r.user))) within(l.sessionsPerUser, (r) => (r.user === user ? 1 : 0), `sessions of ${user}`);
  for (const [flavour, limit] of Object.entries(l.gpusPerFlavour ?? {})) within(limit, (r) => (r.flavour === flavour ? r.gpus : 0), `${flavour} GPUs`);
}

function demandOf(s: Session, status: Status): Demand {
  const since = status.waiting.find((w) => w.uid === s.uid)?.since;
  return { uid: s.uid, session: s.name, user: s.user, generation: s.generation, createdAt: s.createdAt, cpuMillis: s.cpuMillis, memoryBytes: s.memoryBytes, gpus: s.gpus, lifetimeMs: s.lifetimeMs, ...(s.flavour ? { flavour: s.flavour } : {}), ...(since ? { waitingSince: since } : {}) };
}

/** Whether admitting `r` would take from the limit that `d`, created earlier, waits for (by its reason). */
const OVERTAKES: Record<string, (d: Demand, r: Reservation) => boolean> = {
  SessionLimitReached: () => true,
  UserSessionLimitReached: (d, r) => r.user === d.user,
  CpuLimitReached: (_, r) => r.cpuMillis > 0,
  CpuBudgetExhausted: (_, r) => r.cpuMillis > 0,
  MemoryLimitReached: (_, r) => r.memoryBytes > 0,
  GpuLimitReached: (_, r) => r.gpus > 0,
  GpuBudgetExhausted: (_, r) => r.gpus > 0,
  GpuFlavourLimitReached: (d, r) => r.gpus > 0 && r.flavour === d.flavour,
};

/** One reconcile of the quota, as the controller does it, checking the properties on the way. */
function reconcile(w: World, seed: number, duplicate: boolean): void {
  const { status, now } = w;
  const gone = (r: Reservation) => !w.sessions.has(r.uid) || w.sessions.get(r.uid)!.stopped;
  const kept = status.reservations.filter((r) => !gone(r));
  for (const r of status.reservations.filter(gone)) {
    const charge = chargeOf(r, now);
    status.gpuSecondsConsumed += charge.gpuSeconds;
    status.cpuMilliSecondsConsumed += charge.cpuMilliSeconds;
    const seconds = (now - Date.parse(r.admittedAt)) / 1000;
    w.expectedGpuSeconds += seconds * r.gpus;
    w.expectedCpuMilliSeconds += seconds * r.cpuMillis;
  }
  // (d) consumption is exact and never decreases, neither for finished runs nor counting the running ones.
  expect(status.gpuSecondsConsumed).toBe(w.expectedGpuSeconds);
  expect(status.cpuMilliSecondsConsumed).toBe(w.expectedCpuMilliSeconds);
  const consumed = { gpuSeconds: status.gpuSecondsConsumed, cpuMilliSeconds: status.cpuMilliSecondsConsumed };
  const budgets = budgetView(w.spec.budgets, consumed, kept, now);
  const gpuTotal = consumed.gpuSeconds + sum(kept, (r) => ((now - Date.parse(r.admittedAt)) / 1000) * r.gpus);
  expect(gpuTotal).toBeGreaterThanOrEqual(w.lastGpuTotal);
  if (budgets.gpu) expect(budgets.gpu.usedSeconds).toBe(gpuTotal);
  w.lastGpuTotal = gpuTotal;

  const refused = (s: Session) => status.rejected.some((x) => x.uid === s.uid && x.generation === s.generation);
  const asking = [...w.sessions.values()].filter((s) => !s.stopped && !refused(s)).map((s) => demandOf(s, status));
  const pending = shuffled(duplicate ? [...asking, ...asking] : asking, seed);
  const inForce = limitsInForce(w.spec, now);
  const decide = (reservations: Reservation[], nextRun: number, order = pending) => decideAdmission({
    quota: 'default', onExceeded: w.spec.onExceeded ?? 'Queue', inForce, envelope: envelopeOf(w.spec, now), reservations, pending: order, budgets: budgetView(w.spec.budgets, consumed, reservations, now), nextRun, now,
  });
  const decision = decide(kept, status.nextRun);
  // The order the sessions come in does not matter: the policy orders them by creation.
  expect(decide(kept, status.nextRun, [...pending].reverse())).toEqual(decision);

  expectWithinLimits(kept, decision.admitted, inForce.limits);
  if (budgets.gpu && budgets.gpu.usedSeconds >= budgets.gpu.limitSeconds) expect(decision.admitted.filter((r) => r.gpus > 0)).toEqual([]);
  // (b) one reservation per session, run numbers never reused.
  for (const r of decision.admitted) {
    expect(w.runsSeen.has(r.run), `run ${r.run} reused`).toBe(false);
    expect(r.run).toBeGreaterThanOrEqual(status.nextRun);
    expect(Date.parse(r.admittedAt)).toBe(now);
    w.runsSeen.add(r.run);
  }
  const ledger = [...kept, ...decision.admitted];
  expect(new Set(ledger.map((r) => r.uid)).size).toBe(ledger.length);
  // Every session that asked without holding is admitted, waits (positions 1..n) or is refused, exactly once.
  const decided = [...decision.admitted, ...decision.waiting, ...decision.rejected].map((x) => x.uid).sort();
  expect(decided).toEqual(asking.filter((d) => !kept.some((r) => r.uid === d.uid)).map((d) => d.uid).sort());
  expect(decision.waiting.map((x) => x.position)).toEqual(decision.waiting.map((_, i) => i + 1));
  if (w.spec.onExceeded === 'Reject') expect(decision.waiting).toEqual([]);
  // No later session overtakes a waiting one on the limit that one waits for.
  const byUid = new Map(asking.map((d) => [d.uid, d]));
  for (const waits of decision.waiting) {
    const first = byUid.get(waits.uid)!;
    for (const r of decision.admitted.filter((a) => byCreation(first, byUid.get(a.uid)!) < 0)) {
      const shares = OVERTAKES[waits.reason]?.(first, r) ?? false;
      expect(shares, `${r.session} overtook ${waits.session} waiting with ${waits.reason}`).toBe(false);
    }
  }

  status.reservations = ledger;
  status.nextRun = decision.nextRun;
  status.waiting = decision.waiting;
  status.rejected = [...status.rejected.filter((x) => w.sessions.get(x.uid)?.generation === x.generation), ...decision.rejected];
  // A second decision at the same instant (another worker, a restarted operator) changes nothing.
  const again = decide(ledger, status.nextRun);
  expect(again.admitted).toEqual([]);
  expect(again.rejected.filter((x) => !status.rejected.some((y) => y.uid === x.uid))).toEqual([]);
}

function step(w: World, a: Action): void {
  const list = [...w.sessions.values()];
  const picked = a.kind === 'stop' || a.kind === 'resume' || a.kind === 'delete' ? list[a.pick % Math.max(1, list.length)] : undefined;
  switch (a.kind) {
    case 'create': {
      const n = ++w.created;
      const { kind: _kind, flavour, ...ask } = a;
      w.sessions.set(`uid-${n}`, { uid: `uid-${n}`, name: `s-${String(n).padStart(4, '0')}`, createdAt: w.now, generation: 1, stopped: false, ...ask, ...(flavour ? { flavour } : {}) });
      return;
    }
    case 'stop':
      if (picked && !picked.stopped) Object.assign(picked, { stopped: true, generation: picked.generation + 1 });
      return;
    case 'resume':
      // Resuming a stopped session, or changing the spec of a refused one, asks again.
      if (picked && (picked.stopped || w.status.rejected.some((x) => x.uid === picked.uid))) Object.assign(picked, { stopped: false, generation: picked.generation + 1 });
      return;
    case 'delete':
      if (picked) w.sessions.delete(picked.uid);
      return;
    case 'edit':
      w.spec = specAt(a.spec, w.now);
      return;
    case 'advance':
      w.now += a.seconds * 1000;
      return;
    case 'restart':
      // Nothing but the quota's status survives, as read back from the API server.
      w.status = JSON.parse(JSON.stringify(w.status)) as Status;
      return;
    case 'reconcile':
      reconcile(w, a.seed, a.duplicate);
  }
}

describe('quota admission under any interleaving', () => {
  it('never overshoots the limits in force, never admits twice, leaks no reservation and counts budgets exactly', () => {
    fc.assert(
      fc.property(specArb, fc.array(actionArb, { minLength: 10, maxLength: 60, size: 'max' }), (spec, actions) => {
        const w: World = {
          now: START, spec: specAt(spec, START), sessions: new Map(), created: 0, runsSeen: new Set(), expectedGpuSeconds: 0, expectedCpuMilliSeconds: 0, lastGpuTotal: 0,
          status: { reservations: [], nextRun: 1, gpuSecondsConsumed: 0, cpuMilliSecondsConsumed: 0, waiting: [], rejected: [] },
        };
        for (const a of actions) step(w, a);
        // (c) once every session is deleted, a reconcile leaves the ledger empty.
        w.sessions.clear();
        reconcile(w, 0, false);
        expect(w.status.reservations).toEqual([]);
        expect(w.status.waiting).toEqual([]);
      }),
      { numRuns: 300 },
    );
    // About 2 s on an idle machine; the limit leaves room for a loaded one (CI runs it beside the control plane).
  }, 60_000);
});
