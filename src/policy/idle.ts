// SPDX-License-Identifier: Apache-2.0
/**
 * Idle culling (pure): from the session's idle timeout, its last activity (the gateway's
 * coarse `panalysis.io/last-activity` annotation: requests, WebSockets, desktop input and open
 * desktops, JupyterLab's own last activity and busy kernels), the start of its run and the
 * clock alone, whether it is idle: warned `warnBeforeMs` before, stopped at the timeout.
 * Activity before the run started does not count against it (a run starts active). An idle
 * stop holds while no new activity comes: opening the session (which is activity) starts it
 * again, on the same home.
 */
import { durationOrUndefined, formatDuration } from '../api/quantity.ts';
import type { OperatorConfig } from '../config/schema.ts';

/** The idle limits of one session, in milliseconds, with the configuration field each comes from. */
export interface IdlePolicy {
  /** Idle timeout when `spec.idleTimeout` is absent; undefined: such sessions are never culled. */
  timeoutMs?: number;
  /** The longest `spec.idleTimeout` allowed; undefined: no limit. */
  maxTimeoutMs?: number;
  /** For sessions with GPUs: no idle timeout is longer (the default too). */
  gpuTimeoutMs?: number;
  /** The `Idle` warning comes this long before the stop. */
  warnBeforeMs: number;
  /** Where the limits come from, e.g. `lifecycle.idle` or `profiles[gpu-lab].lifecycle.idle`. */
  field: string;
}

export interface IdleInput {
  /** `spec.idleTimeout`. */
  idleTimeout?: string;
  /** GPUs the session asks for. */
  gpus: number;
  /** The last activity seen, ms since the epoch; undefined: none recorded. */
  lastActivity?: number;
  /** The start of the current run (or of the last one); undefined: no run has started. */
  runStartedAt?: number;
  now: number;
}

export interface IdleVerdict {
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export interface IdleDecision {
  /** The timeout in force; undefined: this session is not culled. */
  timeoutMs?: number;
  /** Since when the session is idle (its last activity, or its run's start). */
  idleSince?: number;
  /** The session is idle past its timeout: it has no pod until new activity comes. */
  stop?: { reason: 'IdleTimeout'; message: string };
  /** The `Idle` condition while the stop is near (True) or has happened (True, IdleTimeout). */
  warning?: IdleVerdict;
  /** `spec.idleTimeout` above the maximum: refused, naming the limit. */
  refusal?: { reason: 'IdleTimeoutAboveLimit'; message: string };
  /** Look again then (the warning, the stop). */
  nextCheckAt?: number;
}

const at = (t: number): string => new Date(Math.floor(t / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** The idle policy of sessions of profile `profileName`: the profile's own `lifecycle.idle`, else `lifecycle.idle`. */
export function idlePolicy(config: OperatorConfig, profileName: string | undefined): IdlePolicy {
  const profile = config.profiles.find((p) => p.name === profileName);
  const own = profile?.lifecycle?.idle;
  const idle = own ?? config.lifecycle?.idle ?? { warnBefore: '10m' };
  return {
    timeoutMs: durationOrUndefined(idle.timeout),
    maxTimeoutMs: durationOrUndefined(idle.maxTimeout),
    gpuTimeoutMs: durationOrUndefined(idle.gpuTimeout),
    warnBeforeMs: durationOrUndefined(idle.warnBefore) ?? 10 * 60_000,
    field: own ? `profiles[${profile!.name}].lifecycle.idle` : 'lifecycle.idle',
  };
}

/**
 * Decides whether the session is idle. Total and deterministic. Guarantees: a session is
 * stopped only after `timeout` without activity since both its last activity and its run's
 * start; no activity or run start, no stop; new activity (a later `lastActivity`) lifts a stop.
 */
export function decideIdle(input: IdleInput, p: IdlePolicy): IdleDecision {
  const asked = durationOrUndefined(input.idleTimeout);
  if (asked !== undefined && p.maxTimeoutMs !== undefined && asked > p.maxTimeoutMs) {
    return { refusal: { reason: 'IdleTimeoutAboveLimit', message: `spec.idleTimeout: ${input.idleTimeout} is above the maximum of ${formatDuration(p.maxTimeoutMs)} (${p.field}.maxTimeout); ask for at most ${formatDuration(p.maxTimeoutMs)}.` } };
  }
  let timeoutMs = asked ?? p.timeoutMs;
  if (input.gpus > 0 && p.gpuTimeoutMs !== undefined) timeoutMs = Math.min(timeoutMs ?? Infinity, p.gpuTimeoutMs);
  if (timeoutMs === undefined || !Number.isFinite(timeoutMs) || timeoutMs <= 0) return {};
  const marks = [input.lastActivity, input.runStartedAt].filter((t): t is number => t !== undefined && Number.isFinite(t));
  if (marks.length === 0) return { timeoutMs };
  const idleSince = Math.max(...marks);
  const stopAt = idleSince + timeoutMs;
  const warnAt = stopAt - Math.min(p.warnBeforeMs, timeoutMs);
  const gpu = input.gpus > 0 && p.gpuTimeoutMs !== undefined && timeoutMs === p.gpuTimeoutMs ? ` for sessions with GPUs (${p.field}.gpuTimeout)` : '';
  if (input.now >= stopAt) {
    const message = `The session had no activity since ${at(idleSince)} and was stopped after its idle timeout of ${formatDuration(timeoutMs)}${gpu}; open it to start it again on the same home.`;
    return { timeoutMs, idleSince, stop: { reason: 'IdleTimeout', message }, warning: { status: 'True', reason: 'IdleTimeout', message } };
  }
  if (input.now >= warnAt) {
    return {
      timeoutMs, idleSince, nextCheckAt: stopAt,
      warning: { status: 'True', reason: 'IdleSoon', message: `No activity since ${at(idleSince)}: the session stops at ${at(stopAt)} (idle timeout ${formatDuration(timeoutMs)}${gpu}) unless it is used.` },
    };
  }
  return { timeoutMs, idleSince, nextCheckAt: warnAt };
}
