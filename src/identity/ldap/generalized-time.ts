// SPDX-License-Identifier: Apache-2.0
/** Instants stored in directory attributes: LDAP Generalized Time or RFC 3339 text. */

const GENERALIZED = /^(\d{4})(\d{2})(\d{2})(\d{2})(?:(\d{2})(\d{2})?)?(?:[.,](\d+))?(Z|[+-]\d{2}(?:\d{2})?)$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

function offsetMs(zone: string): number {
  if (zone === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const hours = Number(zone.slice(1, 3));
  const minutes = zone.length > 3 ? Number(zone.slice(3, 5)) : 0;
  if (hours > 23 || minutes > 59) return Number.NaN;
  return sign * (hours * HOUR_MS + minutes * MINUTE_MS);
}

function parseGeneralized(m: RegExpExecArray): number | undefined {
  const [, y, mo, d, h, mi, s, fraction, zone] = m;
  const parts = [y, mo, d, h, mi ?? '0', s ?? '0'].map(Number) as [number, number, number, number, number, number];
  const [year, month, day, hour, minute, second] = parts;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  const base = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59));
  if (new Date(base).getUTCDate() !== day) return undefined;
  // A fraction belongs to the last unit given (RFC 4517 §3.3.13).
  const unit = s !== undefined ? 1000 : mi !== undefined ? MINUTE_MS : HOUR_MS;
  const extra = fraction ? Math.round(Number(`0.${fraction}`) * unit) : 0;
  const offset = offsetMs(zone!);
  return Number.isNaN(offset) ? undefined : base + extra - offset;
}

/**
 * Milliseconds since the epoch of `text`, which is either an LDAP Generalized Time
 * (`20240115080000Z`, `2024011508Z`, `20240115080000.5+0100`) or an RFC 3339 date-time
 * (`2024-01-15T08:00:00Z`). Resolves `undefined` for anything else, including local times
 * without a zone and impossible dates.
 */
export function parseInstant(text: string): number | undefined {
  const value = text.trim();
  const g = GENERALIZED.exec(value);
  if (g) return parseGeneralized(g);
  if (!RFC3339.test(value)) return undefined;
  const ms = Date.parse(value.replace(' ', 'T'));
  return Number.isNaN(ms) ? undefined : ms;
}

/** `ms` as an RFC 3339 UTC date-time, with milliseconds only when they are not zero. */
export function formatInstant(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}
