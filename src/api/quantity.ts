// SPDX-License-Identifier: Apache-2.0
/** Kubernetes quantities and human durations as numbers (pure). */
import { DURATION_PATTERN, QUANTITY_PATTERN } from './v1alpha1/schema-helpers.ts';

const SUFFIX: Record<string, number> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/**
 * The value of a quantity (`500m` → 0.5, `16Gi` → 17179869184, `2` → 2).
 * @throws Error when `q` is not a non-negative quantity.
 */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') {
    if (!Number.isFinite(q) || q < 0) throw new Error(`invalid quantity ${q}`);
    return q;
  }
  if (!new RegExp(QUANTITY_PATTERN).test(q)) throw new Error(`invalid quantity "${q}"`);
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(q)!;
  return Number(m[1]) * SUFFIX[m[2]!]!;
}

/** CPU quantity in millicores, rounded up (`500m` → 500, `2` → 2000). */
export function cpuMillis(q: string | number): number {
  return Math.ceil(parseQuantity(q) * 1000 - 1e-9);
}

/** Memory quantity in bytes, rounded up. */
export function memoryBytes(q: string | number): number {
  return Math.ceil(parseQuantity(q));
}

/** A duration in milliseconds as {@link parseDuration} reads it; undefined for an absent or invalid one (never throws). */
export function durationOrUndefined(d: string | undefined): number | undefined {
  if (d === undefined) return undefined;
  try {
    return parseDuration(d);
  } catch {
    return undefined;
  }
}

const DURATION = new RegExp(DURATION_PATTERN);
const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };
/** Durations parsed so far: a few distinct texts (the configuration's and the sessions') are parsed at every reconcile. */
const durations = new Map<string, number>();

/**
 * A duration (`8h`, `90m`, `1h30m`, `2d`) in milliseconds.
 * @throws Error when `d` is not such a duration.
 */
export function parseDuration(d: string): number {
  const known = durations.get(d);
  if (known !== undefined) return known;
  if (!DURATION.test(d) || d.length < 2) throw new Error(`invalid duration "${d}"; use e.g. 8h, 90m, 1h30m or 2d`);
  let ms = 0;
  for (const [, n, u] of d.matchAll(/([0-9]+)([dhms])/g)) ms += Number(n) * UNIT_MS[u!]!;
  if (durations.size >= 1024) durations.clear();
  durations.set(d, ms);
  return ms;
}

/** A duration in words for messages (`5400000` → `1h30m`). */
export function formatDuration(ms: number): string {
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [u, s] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= s) {
      parts.push(`${Math.floor(rest / s)}${u}`);
      rest %= s;
    }
  }
  return parts.join('') || '0s';
}
