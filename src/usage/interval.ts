// SPDX-License-Identifier: Apache-2.0
/**
 * The accounting interval of a usage export: a half-open `[since, until)` in milliseconds
 * since the epoch, either end open, and the part of a run that lies inside it.
 */

/** `[since, until)`; an absent end is unbounded. */
export interface Interval {
  readonly since?: number;
  readonly until?: number;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Parses an interval end as a user types it: a date (`2026-11-01`, meaning 00:00 UTC of that
 * day) or an RFC 3339 instant with its offset (`2026-11-01T08:00:00+01:00`, `...Z`).
 * @returns milliseconds since the epoch, or `undefined` when `text` is neither (including
 *   dates that do not exist, such as `2026-02-30`, and instants without an offset).
 */
export function parseInstant(text: string): number | undefined {
  const date = DATE.exec(text);
  if (date) {
    const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const ms = Date.UTC(year, month - 1, day);
    const back = new Date(ms);
    const exists = back.getUTCFullYear() === year && back.getUTCMonth() === month - 1 && back.getUTCDate() === day;
    return exists ? ms : undefined;
  }
  if (!INSTANT.test(text)) return undefined;
  const ms = Date.parse(text.replace(' ', 'T'));
  if (Number.isNaN(ms)) return undefined;
  // Date.parse rolls 2026-02-30T00:00:00Z over to March; a real instant keeps its calendar date.
  return parseInstant(text.slice(0, 10)) === undefined ? undefined : ms;
}

/**
 * The part of the run `[start, end)` inside `interval`, as `[from, to)` with `from <= to`, or
 * `undefined` when the run does not overlap the interval.
 *
 * A run overlaps when `start < until` and `end > since`. A run of no length (`start == end`)
 * overlaps when `since <= start < until`, so a run is never lost because it ended at once.
 * A run whose `end` precedes its `start` is treated as a run of no length at `start`.
 */
export function cutToInterval(start: number, end: number, interval: Interval): { from: number; to: number } | undefined {
  const stop = Math.max(start, end);
  const since = interval.since ?? -Infinity;
  const until = interval.until ?? Infinity;
  if (start >= until) return undefined;
  if (stop === start ? start < since : stop <= since) return undefined;
  return { from: Math.max(start, since), to: Math.min(stop, until) };
}
