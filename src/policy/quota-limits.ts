// SPDX-License-Identifier: Apache-2.0
/**
 * The limits of a proposal quota as numbers (pure): which window is in force at an
 * instant, when the next boundary comes, the most any time still to come could allow
 * (to refuse at once what could never fit), and the charge of one run.
 */
import { cpuMillis, memoryBytes, parseDuration } from '../api/quantity.ts';
import type { QuotaLimits, Reservation, ResourceQuotaSpec } from '../api/v1alpha1/resource-quota.ts';

/** Limits in base units; `undefined` is unlimited, 0 forbids. */
export interface Limits {
  sessions?: number;
  sessionsPerUser?: number;
  cpuMillis?: number;
  memoryBytes?: number;
  gpus?: number;
  /** Per flavour; a flavour not listed is limited only by `gpus`. */
  gpusPerFlavour?: Record<string, number>;
  maxSessionDurationMs?: number;
}

/** The limits that apply at an instant. */
export interface LimitsInForce {
  /** The window in force, if any (else `spec.hard` applies). */
  window?: string;
  /** Where the limits come from, for messages: `spec.hard` or `spec.windows[beamtime].hard`. */
  field: string;
  hard: QuotaLimits;
  limits: Limits;
  /** The next instant (ms) at which the limits in force change; undefined: never. */
  nextChange?: number;
}

const safe = <T>(f: () => T): T | undefined => {
  try {
    return f();
  } catch {
    return undefined;
  }
};

/** `hard` in base units; a value that does not parse is treated as absent (the schema refuses it on write). */
export function limitsOf(hard: QuotaLimits | undefined): Limits {
  const h = hard ?? {};
  const out: Limits = {};
  if (typeof h.sessions === 'number') out.sessions = h.sessions;
  if (typeof h.sessionsPerUser === 'number') out.sessionsPerUser = h.sessionsPerUser;
  if (h.cpu !== undefined) out.cpuMillis = safe(() => cpuMillis(h.cpu!));
  if (h.memory !== undefined) out.memoryBytes = safe(() => memoryBytes(h.memory!));
  if (typeof h.gpus === 'number') out.gpus = h.gpus;
  if (h.gpusPerFlavour && typeof h.gpusPerFlavour === 'object') out.gpusPerFlavour = { ...h.gpusPerFlavour };
  if (h.maxSessionDuration) out.maxSessionDurationMs = safe(() => parseDuration(h.maxSessionDuration!));
  for (const key of Object.keys(out) as Array<keyof Limits>) if (out[key] === undefined) delete out[key];
  return out;
}

interface TimedWindow { name: string; start: number; end: number; hard?: QuotaLimits }

function windowsOf(spec: ResourceQuotaSpec): TimedWindow[] {
  return (spec.windows ?? [])
    .map((w) => ({ name: w.name, start: Date.parse(w.start), end: Date.parse(w.end), hard: w.hard }))
    .filter((w) => Number.isFinite(w.start) && Number.isFinite(w.end) && w.end > w.start)
    .sort((a, b) => a.start - b.start);
}

/** The limits in force at `now`: the window containing it (start inclusive, end exclusive), else `spec.hard`. */
export function limitsInForce(spec: ResourceQuotaSpec, now: number): LimitsInForce {
  const windows = windowsOf(spec);
  const current = windows.find((w) => w.start <= now && now < w.end);
  const boundaries = windows.flatMap((w) => [w.start, w.end]).filter((t) => t > now);
  const nextChange = boundaries.length > 0 ? Math.min(...boundaries) : undefined;
  if (current) return { window: current.name, field: `spec.windows[${current.name}].hard`, hard: current.hard ?? {}, limits: limitsOf(current.hard), nextChange };
  return { field: 'spec.hard', hard: spec.hard ?? {}, limits: limitsOf(spec.hard), nextChange };
}

const maxOf = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : Math.max(a, b));

/**
 * The most any time from `now` on could allow, per limit: the maximum over `spec.hard`
 * (which applies outside windows) and every window not yet over. A request above it
 * could never be admitted.
 */
export function envelopeOf(spec: ResourceQuotaSpec, now: number): Limits {
  const all = [limitsOf(spec.hard), ...windowsOf(spec).filter((w) => w.end > now).map((w) => limitsOf(w.hard))];
  const keys = ['sessions', 'sessionsPerUser', 'cpuMillis', 'memoryBytes', 'gpus', 'maxSessionDurationMs'] as const;
  const out: Limits = {};
  for (const key of keys) {
    const value = all.slice(1).reduce((acc, l) => maxOf(acc, l[key]), all[0]![key]);
    if (value !== undefined) out[key] = value;
  }
  const flavours = new Set(all.flatMap((l) => Object.keys(l.gpusPerFlavour ?? {})));
  const perFlavour: Record<string, number> = {};
  for (const f of flavours) {
    const value = all.slice(1).reduce((acc, l) => maxOf(acc, l.gpusPerFlavour?.[f]), all[0]!.gpusPerFlavour?.[f]);
    if (value !== undefined) perFlavour[f] = value;
  }
  if (Object.keys(perFlavour).length > 0) out.gpusPerFlavour = perFlavour;
  return out;
}

/** What a run consumed from `start` (its admission) to `end`, in whole seconds (both instants have second precision). */
export function chargeOf(r: Pick<Reservation, 'gpus' | 'cpuMillis' | 'admittedAt'>, end: number): { seconds: number; gpuSeconds: number; cpuMilliSeconds: number } {
  const start = Date.parse(r.admittedAt);
  const seconds = Number.isFinite(start) ? Math.max(0, Math.round((end - start) / 1000)) : 0;
  return { seconds, gpuSeconds: seconds * r.gpus, cpuMilliSeconds: seconds * r.cpuMillis };
}

