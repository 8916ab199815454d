// SPDX-License-Identifier: Apache-2.0
/** The usage export's two formats: CSV (RFC 4180) and JSON with totals. Pure. */
import { round, USAGE_COLUMNS } from './rows.ts';
import type { CutRow, UsageRow } from './rows.ts';
import type { Interval } from './interval.ts';

/** Sums of a group of rows; hours are summed unrounded, then rounded to 4 decimals. */
export interface UsageTotals {
  runs: number;
  hours: number;
  gpuHours: number;
  cpuHours: number;
}

/** Totals of one proposal, with the totals of each of its users. */
export interface ProposalTotals extends UsageTotals {
  proposal: string;
  users: Array<UsageTotals & { user: string }>;
}

/** The JSON document of an export. */
export interface UsageReport {
  /** The interval asked for (RFC 3339, UTC); `null` for an open end. */
  since: string | null;
  until: string | null;
  runs: UsageRow[];
  totals: ProposalTotals[];
}

/** One CSV field: quoted when it holds a comma, a quote, CR or LF; quotes doubled. */
export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** CSV per RFC 4180: a header row of {@link USAGE_COLUMNS}, one line per row, CRLF line ends. */
export function renderCsv(rows: readonly CutRow[]): string {
  const lines = [USAGE_COLUMNS.join(',')];
  for (const { row } of rows) lines.push(USAGE_COLUMNS.map((c) => csvField(row[c])).join(','));
  return lines.map((line) => `${line}\r\n`).join('');
}

interface Sum {
  runs: number;
  seconds: number;
  gpuSeconds: number;
  cpuSeconds: number;
}

const empty = (): Sum => ({ runs: 0, seconds: 0, gpuSeconds: 0, cpuSeconds: 0 });

function add(sum: Sum, row: CutRow): void {
  sum.runs += 1;
  sum.seconds += row.seconds;
  sum.gpuSeconds += row.gpuSeconds;
  sum.cpuSeconds += row.cpuSeconds;
}

function totalsOf(sum: Sum): UsageTotals {
  return { runs: sum.runs, hours: round(sum.seconds / 3600), gpuHours: round(sum.gpuSeconds / 3600), cpuHours: round(sum.cpuSeconds / 3600) };
}

/**
 * Totals per proposal and, within it, per user, both sorted by name. Computed from unrounded seconds, so a total can differ from
 * the sum of the rounded rows in the fourth decimal.
 */
export function usageTotals(rows: readonly CutRow[]): ProposalTotals[] {
  const proposals = new Map<string, { sum: Sum; users: Map<string, Sum> }>();
  for (const r of rows) {
    let p = proposals.get(r.row.proposal);
    if (!p) proposals.set(r.row.proposal, (p = { sum: empty(), users: new Map() }));
    add(p.sum, r);
    let u = p.users.get(r.row.user);
    if (!u) p.users.set(r.row.user, (u = empty()));
    add(u, r);
  }
  const byName = <T>(a: [string, T], b: [string, T]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  return [...proposals].sort(byName).map(([proposal, p]) => ({
    proposal,
    ...totalsOf(p.sum),
    users: [...p.users].sort(byName).map(([user, sum]) => ({ user, ...totalsOf(sum) })),
  }));
}

/** The JSON document: the interval, the rows (same fields as the CSV) and {@link usageTotals}. */
export function usageReport(rows: readonly CutRow[], interval: Interval): UsageReport {
  const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString().replace('.000Z', 'Z'));
  return { since: iso(interval.since), until: iso(interval.until), runs: rows.map((r) => r.row), totals: usageTotals(rows) };
}

/** {@link usageReport} as indented JSON with a final newline. */
export function renderJson(rows: readonly CutRow[], interval: Interval): string {
  return `${JSON.stringify(usageReport(rows, interval), null, 2)}\n`;
}
