// SPDX-License-Identifier: Apache-2.0
/** Instants stored in directory attributes: LDAP Generalized Time or RFC 3339 text. */

const GENERALIZED = /^(\d{4})(\d{2})(\d{2})(\d{2})(?:(\d{2})(\d{2})?)?(?:[.,](\d+))?(Z|[+-]\d{2}(?:\d{2})?)$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

function offsetMs(zone: string): number {
  if (zone === 'Z' || zone === 'z') return 0;
  const digits = zone.replace(':', '');
  const sign = digits.startsWith('-') ? -1 : 1;
  const hours = Number(digits.slice(1, 3));
  const minutes = digits.length > 3 ? Number(digits.slice(3, 5)) : 0;
  if (hours > 23 || minutes > 59) return Number.NaN;
  return sign * (hours * HOUR_MS + minutes * MINUTE_MS);
}

/** Fields as matched; `unitMs` is the length of the last unit given, which a fraction divides. */
function compose(fields: Array<string | undefined>, unitMs: number): number | undefined {
  const [y, mo, d, h, mi, s, fraction, zone] = fields;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi ?? '0', s ?? '0'].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  const base = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59));
  if (new Date(base).getUTCDate() !== day) return undefined;
  const extra = fraction ? Math.round(Number(`0.${fraction}`) * unitMs) : 0;
  const offset = offsetMs(zone!);
  return Number.isNaN(offset) ? undefined : base + extra - offset;
}

/**
 * Milliseconds since the epoch of `text`, which is either an LDAP Generalized Time
 * (`20240115080000Z`, `2024011508Z`, `20240115080000.5+0100`) or an RFC 3339 date-time
 * (`2024-01-15T08:00:00Z`). Resolves `undefined` for anything else, including local times
 * without a zone and impossible dates. A leap second counts as second 59.
 */
export function parseInstant(text: string): number | undefined {
  const value = text.trim();
  const g = GENERALIZED.exec(value);
  // A Generalized Time fraction belongs to the last unit given (RFC 4517 §3.3.13).
  if (g) return compose(g.slice(1), g[6] !== undefined ? 1000 : g[5] !== undefined ? MINUTE_MS : HOUR_MS);
  const r = RFC3339.exec(value);
  return r ? compose(r.slice(1), 1000) : undefined;
}

/** `ms` as an RFC 3339 UTC date-time, with milliseconds only when they are not zero. */
export function formatInstant(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}
