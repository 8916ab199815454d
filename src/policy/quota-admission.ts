// SPDX-License-Identifier: Apache-2.0
/**
 * Quota admission (pure): which waiting sessions of a proposal get a reservation now,
 * which wait (in creation order, with the limit they wait for) and which are refused;
 * what the budgets stand at and what that means for running sessions.
 *
 * Guarantees, for any input: the reservations after admission never exceed the limits in
 * force (except reservations already held when the limits were lowered: running work is
 * never stopped for that); a session is admitted at most once (by UID); a session that
 * waits blocks later sessions only for the limits it waits for (a later CPU-only session
 * does not wait behind an earlier one waiting for a GPU), and a per-user limit blocks only
 * that user's later sessions.
 */
import { formatDuration } from '../api/quantity.ts';
import type { OnExceeded, QuotaBudgets, QuotaUsed, Rejection, Reservation, Waiting } from '../api/v1alpha1/resource-quota.ts';
import type { Limits, LimitsInForce } from './quota-limits.ts';
import { formatTime } from '../runtime/conditions.ts';

/** What a waiting session asks for. */
export interface Demand {
  uid: string;
  session: string;
  user: string;
  profile?: string;
  type?: string;
  /** metadata.generation: a rejection holds for this generation only. */
  generation: number;
  /** metadata.creationTimestamp in ms: the queue order. */
  createdAt: number;
  cpuMillis: number;
  memoryBytes: number;
  gpus: number;
  flavour?: string;
  lifetimeMs: number;
  /** When it first waited (from the ledger), kept across decisions. */
  waitingSince?: string;
  /**
   * A session not yet checked by the session controller (its request is unknown): it is
   * not decided, but keeps its place, so every later session waits behind it. Admission
   * thus follows creation order even while a burst of sessions is still being checked.
   */
  unchecked?: boolean;
}

/** Consumption of the budgets: finished runs plus running reservations up to `now`. */
export interface BudgetView {
  gpu?: { limitSeconds: number; usedSeconds: number; rate: number };
  cpu?: { limitMilliSeconds: number; usedMilliSeconds: number; rate: number };
}

export interface AdmissionInput {
  quota: string;
  onExceeded: OnExceeded;
  inForce: LimitsInForce;
  /** The most any time from now on could allow ({@link envelopeOf}). */
  envelope: Limits;
  reservations: readonly Reservation[];
  pending: readonly Demand[];
  budgets: BudgetView;
  nextRun: number;
  now: number;
}

export interface AdmissionDecision {
  admitted: Reservation[];
  rejected: Rejection[];
  waiting: Waiting[];
  nextRun: number;
}

/** Sum of what `reservations` hold. */
export function usedBy(reservations: readonly Reservation[]): QuotaUsed {
  const used: QuotaUsed = { sessions: 0, cpuMillis: 0, memoryBytes: 0, gpus: 0 };
  const perFlavour: Record<string, number> = {};
  for (const r of reservations) {
    used.sessions += 1;
    used.cpuMillis += r.cpuMillis;
    used.memoryBytes += r.memoryBytes;
    used.gpus += r.gpus;
    if (r.flavour && r.gpus > 0) perFlavour[r.flavour] = (perFlavour[r.flavour] ?? 0) + r.gpus;
  }
  if (Object.keys(perFlavour).length > 0) used.gpusPerFlavour = perFlavour;
  return used;
}

/** The budgets at `now`: `consumed` (finished runs) plus every reservation's time so far. */
export function budgetView(budgets: QuotaBudgets | undefined, consumed: { gpuSeconds: number; cpuMilliSeconds: number }, reservations: readonly Reservation[], now: number): BudgetView {
  const view: BudgetView = {};
  let gpuRunning = 0;
  let cpuRunning = 0;
  let gpuRate = 0;
  let cpuRate = 0;
  for (const r of reservations) {
    const start = Date.parse(r.admittedAt);
    const seconds = Number.isFinite(start) ? Math.max(0, (now - start) / 1000) : 0;
    gpuRunning += seconds * r.gpus;
    cpuRunning += seconds * r.cpuMillis;
    gpuRate += r.gpus;
    cpuRate += r.cpuMillis;
  }
  if (typeof budgets?.gpuHours === 'number') view.gpu = { limitSeconds: budgets.gpuHours * 3600, usedSeconds: consumed.gpuSeconds + gpuRunning, rate: gpuRate };
  if (typeof budgets?.cpuHours === 'number') view.cpu = { limitMilliSeconds: budgets.cpuHours * 3600 * 1000, usedMilliSeconds: consumed.cpuMilliSeconds + cpuRunning, rate: cpuRate };
  return view;
}

interface Full { dim: string; reason: string; message: string }

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const gpusIn = (n: number): string => plural(n, 'GPU');
const cores = (millis: number): string => (millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`);
const gib = (bytes: number): string => (bytes % 2 ** 30 === 0 ? `${bytes / 2 ** 30}Gi` : bytes % 2 ** 20 === 0 ? `${bytes / 2 ** 20}Mi` : String(bytes));

/** The dimensions a demand needs, as blocking keys. */
function dimsOf(d: Demand): string[] {
  const dims = ['sessions', `user:${d.user}`];
  if (d.cpuMillis > 0) dims.push('cpu', 'budget:cpu');
  if (d.memoryBytes > 0) dims.push('memory');
  if (d.gpus > 0) dims.push('gpus', `flavour:${d.flavour ?? ''}`, 'budget:gpu');
  return dims;
}

/** Why `d` could never be admitted under any limits still to come, or undefined. */
export function neverFits(d: Demand, envelope: Limits, quota: string): Full | undefined {
  const over = (field: string, what: string, limit: string, fix: string): Full => ({ dim: field, reason: 'ExceedsQuota', message: `${field}: ${what} is more than the quota ${quota} of the proposal allows at any time (${limit}); ${fix}.` });
  if (envelope.sessions === 0) return over('spec', 'a session', 'sessions: 0', 'the proposal may not run sessions; ask the facility');
  if (envelope.sessionsPerUser === 0) return over('spec.user', 'a session', 'sessionsPerUser: 0', 'the proposal may not run sessions; ask the facility');
  if (d.gpus > 0 && envelope.gpus !== undefined && d.gpus > envelope.gpus) return over('spec.resources.gpu.count', plural(d.gpus, 'GPU'), `gpus: ${envelope.gpus}`, envelope.gpus === 0 ? 'ask for no GPU' : `ask for at most ${envelope.gpus}`);
  const perFlavour = d.flavour ? envelope.gpusPerFlavour?.[d.flavour] : undefined;
  if (d.gpus > 0 && perFlavour !== undefined && d.gpus > perFlavour) return over('spec.resources.gpu.count', `${plural(d.gpus, 'GPU')} of flavour ${d.flavour}`, `gpusPerFlavour.${d.flavour}: ${perFlavour}`, perFlavour === 0 ? 'choose another flavour' : `ask for at most ${perFlavour}`);
  if (envelope.cpuMillis !== undefined && d.cpuMillis > envelope.cpuMillis) return over('spec.resources.cpu', `${cores(d.cpuMillis)} CPU`, `cpu: ${cores(envelope.cpuMillis)}`, `ask for at most ${cores(envelope.cpuMillis)}`);
  if (envelope.memoryBytes !== undefined && d.memoryBytes > envelope.memoryBytes) return over('spec.resources.memory', gib(d.memoryBytes), `memory: ${gib(envelope.memoryBytes)}`, `ask for at most ${gib(envelope.memoryBytes)}`);
  if (envelope.maxSessionDurationMs !== undefined && d.lifetimeMs > envelope.maxSessionDurationMs) {
    const max = formatDuration(envelope.maxSessionDurationMs);
    return over('spec.lifetime', `a lifetime of ${formatDuration(d.lifetimeMs)}`, `maxSessionDuration: ${max}`, `set spec.lifetime to at most ${max}`);
  }
  return undefined;
}

/** The limits `d` would exceed now, given what is held (`used`, `perUser`) and the budgets. */
function fullFor(d: Demand, inForce: LimitsInForce, used: QuotaUsed, perUser: Map<string, number>, budgets: BudgetView, quota: string): Full[] {
  const l = inForce.limits;
  const at = `${inForce.field} of quota ${quota}`;
  const full: Full[] = [];
  if (l.sessions !== undefined && used.sessions + 1 > l.sessions) full.push({ dim: 'sessions', reason: 'SessionLimitReached', message: `The proposal runs ${used.sessions} of ${plural(l.sessions, 'session')} allowed at once (sessions in ${at}).` });
  const mine = perUser.get(d.user) ?? 0;
  if (l.sessionsPerUser !== undefined && mine + 1 > l.sessionsPerUser) full.push({ dim: `user:${d.user}`, reason: 'UserSessionLimitReached', message: `${d.user} runs ${mine} of ${plural(l.sessionsPerUser, 'session')} allowed per user at once (sessionsPerUser in ${at}).` });
  if (d.cpuMillis > 0 && l.cpuMillis !== undefined && used.cpuMillis + d.cpuMillis > l.cpuMillis) full.push({ dim: 'cpu', reason: 'CpuLimitReached', message: `Running sessions hold ${cores(used.cpuMillis)} of ${cores(l.cpuMillis)} CPU; this session needs ${cores(d.cpuMillis)} (cpu in ${at}).` });
  if (d.memoryBytes > 0 && l.memoryBytes !== undefined && used.memoryBytes + d.memoryBytes > l.memoryBytes) full.push({ dim: 'memory', reason: 'MemoryLimitReached', message: `Running sessions hold ${gib(used.memoryBytes)} of ${gib(l.memoryBytes)} memory; this session needs ${gib(d.memoryBytes)} (memory in ${at}).` });
  if (d.gpus > 0 && l.gpus !== undefined && used.gpus + d.gpus > l.gpus) full.push({ dim: 'gpus', reason: 'GpuLimitReached', message: `${used.gpus} of ${gpusIn(l.gpus)} are in use; this session needs ${d.gpus} (gpus in ${at}).` });
  const flavourLimit = d.flavour ? l.gpusPerFlavour?.[d.flavour] : undefined;
  const flavourUsed = d.flavour ? used.gpusPerFlavour?.[d.flavour] ?? 0 : 0;
  if (d.gpus > 0 && flavourLimit !== undefined && flavourUsed + d.gpus > flavourLimit) full.push({ dim: `flavour:${d.flavour}`, reason: 'GpuFlavourLimitReached', message: `${flavourUsed} of ${flavourLimit} ${d.flavour} GPUs are in use; this session needs ${d.gpus} (gpusPerFlavour.${d.flavour} in ${at}).` });
  if (l.maxSessionDurationMs !== undefined && d.lifetimeMs > l.maxSessionDurationMs) full.push({ dim: `lifetime:${d.uid}`, reason: 'LifetimeAboveLimit', message: `spec.lifetime: ${formatDuration(d.lifetimeMs)} is longer than the ${formatDuration(l.maxSessionDurationMs)} sessions may run now (maxSessionDuration in ${at}); set a shorter spec.lifetime or wait for a window that allows it.` });
  if (d.gpus > 0 && budgets.gpu && budgets.gpu.usedSeconds >= budgets.gpu.limitSeconds) full.push({ dim: 'budget:gpu', reason: 'GpuBudgetExhausted', message: `The proposal has used its GPU budget (${hours(budgets.gpu.usedSeconds)} of ${hours(budgets.gpu.limitSeconds)} GPU-hours, spec.budgets.gpuHours of quota ${quota}); ask the facility for more or start a session without GPU.` });
  if (d.cpuMillis > 0 && budgets.cpu && budgets.cpu.usedMilliSeconds >= budgets.cpu.limitMilliSeconds) full.push({ dim: 'budget:cpu', reason: 'CpuBudgetExhausted', message: `The proposal has used its CPU budget (${hours(budgets.cpu.usedMilliSeconds / 1000)} of ${hours(budgets.cpu.limitMilliSeconds / 1000)} CPU-hours, spec.budgets.cpuHours of quota ${quota}); ask the facility for more.` });
  return full;
}

/** Resource-seconds as hours for people (`31.2`). */
export function hours(seconds: number): string {
  const h = seconds / 3600;
  return h >= 10 || h === 0 ? String(Math.floor(h)) : h.toFixed(h >= 1 ? 1 : 2);
}

/** Queue order: creation time, then name, then UID. */
export function byCreation(a: Demand, b: Demand): number {
  return a.createdAt - b.createdAt || (a.session < b.session ? -1 : a.session > b.session ? 1 : 0) || (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0);
}

/**
 * Decides, in creation order, for every pending session that holds no reservation:
 * admit (a new reservation with the next run number), wait (under `Queue`) or refuse
 * (under `Reject`, or at once when it could never fit).
 */
export function decideAdmission(input: AdmissionInput): AdmissionDecision {
  const held = new Set(input.reservations.map((r) => r.uid));
  const all = [...input.reservations];
  const used = usedBy(all);
  const perUser = new Map<string, number>();
  for (const r of all) perUser.set(r.user, (perUser.get(r.user) ?? 0) + 1);
  const blocked = new Map<string, number>();
  const decision: AdmissionDecision = { admitted: [], rejected: [], waiting: [], nextRun: input.nextRun };
  const seen = new Set<string>();
  let unchecked = 0;
  for (const d of [...input.pending].sort(byCreation)) {
    if (held.has(d.uid) || seen.has(d.uid)) continue;
    seen.add(d.uid);
    if (d.unchecked) {
      unchecked += 1;
      continue;
    }
    const never = neverFits(d, input.envelope, input.quota);
    if (never) {
      decision.rejected.push({ uid: d.uid, session: d.session, generation: d.generation, reason: never.reason, message: never.message });
      continue;
    }
    const full = fullFor(d, input.inForce, used, perUser, input.budgets, input.quota);
    const dims = dimsOf(d);
    const behind = dims.filter((dim) => blocked.has(dim) || unchecked > 0);
    if (full.length === 0 && behind.length === 0) {
      const r: Reservation = {
        uid: d.uid, session: d.session, user: d.user, run: decision.nextRun++,
        cpuMillis: d.cpuMillis, memoryBytes: d.memoryBytes, gpus: d.gpus, admittedAt: formatTime(input.now),
        ...(d.profile ? { profile: d.profile } : {}), ...(d.type ? { type: d.type } : {}), ...(d.flavour && d.gpus > 0 ? { flavour: d.flavour } : {}),
      };
      decision.admitted.push(r);
      all.push(r);
      used.sessions += 1;
      used.cpuMillis += d.cpuMillis;
      used.memoryBytes += d.memoryBytes;
      used.gpus += d.gpus;
      if (r.flavour) used.gpusPerFlavour = { ...used.gpusPerFlavour, [r.flavour]: (used.gpusPerFlavour?.[r.flavour] ?? 0) + d.gpus };
      perUser.set(d.user, (perUser.get(d.user) ?? 0) + 1);
      continue;
    }
    if (input.onExceeded === 'Reject' && full.length > 0) {
      decision.rejected.push({ uid: d.uid, session: d.session, generation: d.generation, reason: full[0]!.reason, message: `${full[0]!.message} The quota rejects sessions that do not fit (spec.onExceeded: Reject); create the session again when room is free.` });
      continue;
    }
    const position = decision.waiting.length + 1;
    const ahead = behind.length > 0 ? Math.max(...behind.map((dim) => (blocked.get(dim) ?? 0) + unchecked)) : 0;
    const first = full[0] ?? { reason: 'QueuedBehindEarlierSessions', message: `${plural(ahead, 'earlier session')} of the proposal wait${ahead === 1 ? 's' : ''} for the same resources.` };
    decision.waiting.push({
      uid: d.uid, session: d.session, position, reason: first.reason,
      // The position is in the quota's waiting list, not in the message: every admission would otherwise rewrite the status of every waiting session.
      message: `Waiting for quota: ${first.message} The session starts in creation order when room frees up.`,
      since: d.waitingSince ?? formatTime(input.now),
    });
    for (const dim of [...full.map((f) => f.dim), ...behind]) blocked.set(dim, (blocked.get(dim) ?? 0) + 1);
  }
  return decision;
}

/** A budget threshold crossed, or the stop of running sessions it brings. */
export interface BudgetActions {
  /** Thresholds (80, 100) newly crossed, per budget. */
  warn: Array<{ budget: 'gpu' | 'cpu'; percent: number; message: string }>;
  gpuWarned: number;
  cpuWarned: number;
  /** When a budget was first found used up (kept once set). */
  exhaustedAt?: number;
  /** Reservations to stop now (onExhausted: Stop, after the grace period). */
  stop: Reservation[];
  /** When to look again: the next threshold or the end of the grace period. */
  nextCheckMs?: number;
}

const THRESHOLDS = [80, 100] as const;

/**
 * What the budgets mean now: thresholds crossed since `warned`, and under `onExhausted:
 * Stop` the running sessions that use an exhausted budget once `gracePeriodMs` has passed
 * since `exhaustedAt`. `nextCheckMs` is the time until the next threshold is reached at the
 * current rate, or until the grace period ends.
 */
export function budgetActions(budgets: QuotaBudgets | undefined, view: BudgetView, warned: { gpu: number; cpu: number }, exhaustedAt: number | undefined, reservations: readonly Reservation[], gracePeriodMs: number, quota: string, now: number): BudgetActions {
  const out: BudgetActions = { warn: [], gpuWarned: warned.gpu, cpuWarned: warned.cpu, stop: [] };
  const waits: number[] = [];
  const consider = (budget: 'gpu' | 'cpu', used: number, limit: number, rate: number, unit: string) => {
    // A raised budget lowers the level warned about, so that using it up again warns again.
    const reached = THRESHOLDS.filter((t) => used >= (limit * t) / 100);
    let level = Math.min(budget === 'gpu' ? out.gpuWarned : out.cpuWarned, reached.length > 0 ? Math.max(...reached) : 0);
    for (const t of THRESHOLDS) {
      const at = (limit * t) / 100;
      if (used >= at && level < t) {
        level = t;
        out.warn.push({ budget, percent: t, message: `The proposal has used ${t}% of its ${unit} budget (${hours(used)} of ${hours(limit)} ${unit}-hours, quota ${quota}).${t === 100 ? (budgets?.onExhausted === 'Stop' ? ` Running sessions that use it stop after ${formatDuration(gracePeriodMs)}; homes are kept.` : ' No new session that needs it starts.') : ''}` });
      } else if (used < at && rate > 0) waits.push(((at - used) / rate) * 1000);
    }
    if (budget === 'gpu') out.gpuWarned = level;
    else out.cpuWarned = level;
    return used >= limit;
  };
  const gpuOut = view.gpu ? consider('gpu', view.gpu.usedSeconds, view.gpu.limitSeconds, view.gpu.rate, 'GPU') : false;
  const cpuOut = view.cpu ? consider('cpu', view.cpu.usedMilliSeconds / 1000, view.cpu.limitMilliSeconds / 1000, view.cpu.rate / 1000, 'CPU') : false;
  if (gpuOut || cpuOut) out.exhaustedAt = exhaustedAt ?? now;
  if (out.exhaustedAt !== undefined && budgets?.onExhausted === 'Stop') {
    const deadline = out.exhaustedAt + gracePeriodMs;
    const users = reservations.filter((r) => !r.stop && ((gpuOut && r.gpus > 0) || (cpuOut && r.cpuMillis > 0)));
    if (now >= deadline) out.stop = users;
    else if (users.length > 0) waits.push(deadline - now);
  }
  if (waits.length > 0) out.nextCheckMs = Math.max(1000, Math.ceil(Math.min(...waits)));
  return out;
}
