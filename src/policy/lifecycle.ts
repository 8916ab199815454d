// SPDX-License-Identifier: Apache-2.0
/**
 * The session lifecycle (pure): from the session's spec, its recorded run start, the
 * policy limits and the clock alone, whether it may have a pod (stopped, expired by
 * lifetime, renewal limit or the end of its proposal's beamtime), when its run ends, which
 * warning is due, whether a stopped session is past its retention, and when to look again.
 *
 * The session controller evaluates it before identity, access and quota, so stop and
 * expiry hold on every path (directory down, user unknown, access pending, quota queued,
 * invalid spec). Readiness is no input: a readiness flap or a crash loop never moves the
 * end of a run. Idle culling (src/policy/idle.ts) is one more reason to have no pod: an idle
 * stop holds until activity newer than the stop comes (opening the session), then a new run
 * starts.
 */
import { durationOrUndefined, formatDuration } from '../api/quantity.ts';
import type { OperatorConfig } from '../config/schema.ts';
import { decideIdle } from './idle.ts';
import type { IdleInput, IdlePolicy } from './idle.ts';

/** The limits that apply to one session, in milliseconds, with the configuration field each comes from (for messages). */
export interface LifecyclePolicy {
  lifetimeMs: number;
  maxLifetimeMs: number;
  maxLifetimeField: string;
  renewalStepMs: number;
  maxRenewals: number;
  /** Longest run with its renewals, from its start. */
  maxTotalMs: number;
  /** Where `maxRenewals`, `renewalStepMs` and `maxTotalMs` come from, e.g. `lifecycle.renewals`. */
  renewalField: string;
  /** Warning lead times, longest first. */
  warningsMs: number[];
  afterBeamtimeMs?: number;
  retentionMs?: number;
}

const ms = (d: string | undefined, fallback: number): number => durationOrUndefined(d) ?? fallback;

/** The lifecycle policy of sessions of profile `profileName` (a profile's own limits over `lifecycle` and `defaults`). */
export function lifecyclePolicy(config: OperatorConfig, profileName: string | undefined): LifecyclePolicy {
  const profile = config.profiles.find((p) => p.name === profileName);
  const own = profile?.lifecycle;
  const life = config.lifecycle ?? { warnings: ['1h', '10m'], renewals: { step: '2h', maxCount: 3 } };
  const renewals = own?.renewals ?? life.renewals;
  const maxLifetimeMs = ms(own?.maxLifetime ?? config.defaults.maxLifetime, Infinity);
  return {
    lifetimeMs: ms(config.defaults.lifetime, 8 * 3600_000),
    maxLifetimeMs,
    maxLifetimeField: own?.maxLifetime ? `profiles[${profile!.name}].lifecycle.maxLifetime` : 'defaults.maxLifetime',
    renewalStepMs: ms(renewals.step, 0),
    maxRenewals: renewals.maxCount,
    maxTotalMs: ms(renewals.maxTotal, maxLifetimeMs),
    renewalField: own?.renewals ? `profiles[${profile!.name}].lifecycle.renewals` : 'lifecycle.renewals',
    warningsMs: life.warnings.map((w) => ms(w, 0)).filter((w) => w > 0).sort((a, b) => b - a),
    afterBeamtimeMs: life.afterBeamtime === undefined ? undefined : ms(life.afterBeamtime, 0),
    retentionMs: life.retention === undefined ? undefined : ms(life.retention, Infinity),
  };
}

/** What the lifecycle is decided from. Times are milliseconds since the epoch. */
export interface LifecycleInput {
  state?: string;
  /** `spec.lifetime`; absent: the policy's default. */
  lifetime?: string;
  /** Renewals of the current run: `spec.renewals` less its value when the run began. */
  renewals?: number;
  /** The recorded start of the current run (`status.runStartedAt`); undefined: no run has started. */
  runStartedAt?: number;
  /** The end of the current run as stored; a bound while the beamtime cannot be read. */
  storedExpiresAt?: number;
  /** What set the stored end (`status.endsBy`), for the reason of an expiry decided from it. */
  storedEndsBy?: string;
  /** When the session stopped (`status.stoppedAt`), for retention. */
  stoppedAt?: number;
  /** The quota's `maxSessionDuration` in force, if any. */
  quotaMaxMs?: number;
  /** The end of the proposal's beamtime; `unknown` while the proposal source cannot be read; undefined: none. */
  beamtimeEnd?: number | 'unknown';
  /** Idle culling; undefined: not evaluated. */
  idle?: {
    input: Omit<IdleInput, 'now' | 'runStartedAt'>;
    policy: IdlePolicy;
    /** When the session was stopped for being idle (its Ready condition turned IdleTimeout); undefined: it was not. */
    stoppedAt?: number;
    /** The message of that stop, kept while it holds. */
    stopMessage?: string;
  };
  now: number;
}

/** What ends a run. */
export type EndsBy = 'Lifetime' | 'Beamtime';

/** A condition-shaped verdict. */
export interface LifecycleVerdict {
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export interface LifecycleDecision {
  /** Why the session must have no pod now; undefined: it may run. */
  stop?: 'Stopped' | 'Expired' | 'Idle';
  /** Reason and message of an idle stop (`IdleTimeout`). */
  idleStop?: { reason: string; message: string };
  /** The `Idle` condition while the session runs with an idle timeout: True (the stop is near) or False. */
  idle?: LifecycleVerdict;
  /** Reason and message of an expiry (`LifetimeExpired`, `BeamtimeEnded`). */
  expired?: { reason: string; message: string };
  /** When the current run ends (or the latest a run could end, before one starts). */
  expiresAt?: number;
  /** What sets `expiresAt`: the lifetime (with renewals and their limits) or the beamtime. */
  endsBy?: EndsBy;
  /** The warning due now (the shortest lead time passed), as the `Expiring` condition. */
  warning?: LifecycleVerdict;
  /** Whether the renewals asked for were applied (the `Renewed` condition); undefined when none were asked. */
  renewal?: LifecycleVerdict;
  /** `spec.lifetime` above the maximum: the session may not start (a refusal naming the limit). */
  refusal?: { reason: string; message: string };
  /** A stopped session is deleted at this instant (retention), if set. */
  deleteAt?: number;
  /** Look again at this instant (the next warning, the end of the run, retention); undefined: on change only. */
  nextCheckAt?: number;
}

const at = (t: number): string => new Date(Math.floor(t / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The run's length with its renewals, and the renewal verdict. */
function runLength(input: LifecycleInput, p: LifecyclePolicy): { lengthMs: number; renewedBy: number; renewal?: LifecycleVerdict } {
  const lifetimeMs = Math.min(ms(input.lifetime, p.lifetimeMs), p.maxLifetimeMs);
  const asked = Number.isInteger(input.renewals) && input.renewals! > 0 ? input.renewals! : 0;
  const counted = Math.min(asked, p.maxRenewals);
  const cap = Math.min(p.maxTotalMs, input.quotaMaxMs ?? Infinity);
  const wanted = lifetimeMs + counted * p.renewalStepMs;
  const lengthMs = Math.min(wanted, Math.max(lifetimeMs, cap));
  const renewedBy = Math.round((lengthMs - lifetimeMs) / (p.renewalStepMs || 1));
  if (asked === 0) return { lengthMs, renewedBy };
  const total = `a run of ${formatDuration(lengthMs)} in all`;
  if (asked > p.maxRenewals) {
    return { lengthMs, renewedBy, renewal: { status: 'False', reason: 'RenewalLimit', message: `spec.renewals: ${plural(asked, 'renewal')} of this run is more than the ${plural(p.maxRenewals, 'renewal')} allowed (${p.renewalField}.maxCount); ${counted} applied, ${total}.` } };
  }
  if (wanted > lengthMs) {
    const field = cap === input.quotaMaxMs && input.quotaMaxMs < p.maxTotalMs ? 'the quota\'s maxSessionDuration' : `${p.renewalField}.maxTotal`;
    return { lengthMs, renewedBy, renewal: { status: 'False', reason: 'RenewalLimit', message: `spec.renewals: ${plural(asked, 'renewal')} of this run would make it longer than ${formatDuration(cap)} (${field}); it ends after ${total}.` } };
  }
  return { lengthMs, renewedBy, renewal: { status: 'True', reason: 'Renewed', message: `${plural(asked, 'renewal')} of ${formatDuration(p.renewalStepMs)} applied: ${total}.` } };
}

/** Idle culling within {@link decideLifecycle}: an idle stop holds until newer activity; otherwise {@link decideIdle}. */
function decideIdleStop(input: LifecycleInput, out: LifecycleDecision, checks: number[]): void {
  const idle = input.idle!;
  const last = idle.input.lastActivity;
  if (idle.stoppedAt !== undefined && !(last !== undefined && last > idle.stoppedAt)) {
    out.stop = 'Idle';
    out.idleStop = { reason: 'IdleTimeout', message: idle.stopMessage ?? 'The session was stopped for being idle; open it to start it again on the same home.' };
    return;
  }
  const d = decideIdle({ ...idle.input, runStartedAt: idle.stoppedAt === undefined ? input.runStartedAt : undefined, now: input.now }, idle.policy);
  if (d.refusal && !out.refusal) out.refusal = d.refusal;
  if (d.stop) {
    out.stop = 'Idle';
    out.idleStop = d.stop;
    return;
  }
  if (d.nextCheckAt !== undefined) checks.push(d.nextCheckAt);
  if (d.timeoutMs !== undefined && input.runStartedAt !== undefined) {
    out.idle = d.warning ?? { status: 'False', reason: 'Active', message: `The session stops after ${formatDuration(d.timeoutMs)} without activity.` };
  }
}

/**
 * Decides the lifecycle of one session. Total and deterministic: the same input gives the
 * same decision. Guarantees: `expiresAt` never depends on `now` or on the pod (readiness,
 * restarts); it is never later than the run start plus the maximum total nor than the
 * beamtime end plus `afterBeamtime`; while the beamtime is `unknown` it is never later than
 * the stored one. A renewal beyond policy is not applied (the run keeps the longest length
 * policy allows) and `renewal` says so, naming the limit.
 */
export function decideLifecycle(input: LifecycleInput, p: LifecyclePolicy): LifecycleDecision {
  const out: LifecycleDecision = {};
  const asked = ms(input.lifetime, p.lifetimeMs);
  if (asked > p.maxLifetimeMs) {
    out.refusal = { reason: 'LifetimeTooLong', message: `spec.lifetime: ${input.lifetime} is above the maximum of ${formatDuration(p.maxLifetimeMs)} (${p.maxLifetimeField}); ask for at most ${formatDuration(p.maxLifetimeMs)}.` };
  }
  const { lengthMs, renewedBy, renewal } = runLength(input, p);
  out.renewal = renewal;
  const ends: Array<{ t: number; by: EndsBy; why: string }> = [];
  if (input.runStartedAt !== undefined) {
    const how = renewedBy > 0 ? `the end of its lifetime with ${plural(renewedBy, 'renewal')} (${formatDuration(lengthMs)})` : `the end of its lifetime (${formatDuration(lengthMs)})`;
    ends.push({ t: input.runStartedAt + lengthMs, by: 'Lifetime', why: how });
  }
  if (typeof input.beamtimeEnd === 'number' && p.afterBeamtimeMs !== undefined) {
    ends.push({ t: input.beamtimeEnd + p.afterBeamtimeMs, by: 'Beamtime', why: `the end of the proposal's beamtime (${at(input.beamtimeEnd)}) plus ${formatDuration(p.afterBeamtimeMs)} (lifecycle.afterBeamtime)` });
  }
  if (input.beamtimeEnd === 'unknown' && input.storedExpiresAt !== undefined && input.runStartedAt !== undefined) {
    const by: EndsBy = input.storedEndsBy === 'Beamtime' ? 'Beamtime' : 'Lifetime';
    ends.push({ t: input.storedExpiresAt, by, why: by === 'Beamtime' ? 'the end of the proposal\'s beamtime plus lifecycle.afterBeamtime' : 'the end of its lifetime' });
  }
  const end = ends.sort((a, b) => a.t - b.t)[0];
  if (end) {
    out.expiresAt = end.t;
    out.endsBy = end.by;
  }
  const checks: number[] = [];
  if (input.state === 'Stopped') out.stop = 'Stopped';
  else if (end && input.now >= end.t) {
    out.stop = 'Expired';
    out.expired = { reason: end.by === 'Beamtime' ? 'BeamtimeEnded' : 'LifetimeExpired', message: `The session reached ${end.why} at ${at(end.t)} and was stopped; set spec.state to Stopped and back to Running to start a new run.` };
  } else if (end) {
    checks.push(end.t);
    const passed = p.warningsMs.filter((lead) => input.now >= end.t - lead && input.runStartedAt !== undefined);
    checks.push(...p.warningsMs.map((lead) => end.t - lead).filter((t) => t > input.now));
    const lead = passed[passed.length - 1];
    if (lead !== undefined) {
      const renew = end.by === 'Lifetime' && renewedBy < p.maxRenewals ? ' or renew it (spec.renewals)' : '';
      out.warning = { status: 'True', reason: `ExpiresWithin${formatDuration(lead)}`, message: `The session stops at ${at(end.t)}, in less than ${formatDuration(lead)}, at ${end.why}; save your work${renew}.` };
    }
  }
  if (!out.stop && input.idle) decideIdleStop(input, out, checks);
  if (out.stop && input.stoppedAt !== undefined && p.retentionMs !== undefined && Number.isFinite(p.retentionMs)) {
    out.deleteAt = input.stoppedAt + p.retentionMs;
    checks.push(out.deleteAt);
  }
  const future = checks.filter((t) => t > input.now);
  if (future.length > 0) out.nextCheckAt = Math.min(...future);
  return out;
}
