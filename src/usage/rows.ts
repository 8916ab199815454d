// SPDX-License-Identifier: Apache-2.0
/**
 * UsageRecords → the rows of the facility's accounting export, cut to the export's interval.
 * Pure: no I/O, no clock.
 */
import type { UsageRecord } from '../api/v1alpha1/usage-record.ts';
import { cutToInterval } from './interval.ts';
import type { Interval } from './interval.ts';

/** One finished run as the export shows it. Field order is the column order. */
export interface UsageRow {
  proposal: string;
  user: string;
  session: string;
  run: number;
  profile: string;
  type: string;
  gpus: number;
  gpuFlavour: string;
  cpuCores: number;
  memoryGiB: number;
  /** The run's own start and end (RFC 3339, UTC), never cut to the interval. */
  start: string;
  end: string;
  /** Hours of the run inside the interval (the whole run without one); 4 decimals. */
  hours: number;
  /** `gpus × hours`, `cpuCores × hours`; 4 decimals. */
  gpuHours: number;
  cpuHours: number;
  endReason: string;
  imageDigest: string;
  namespace: string;
}

/** The columns of {@link UsageRow}, in order. */
export const USAGE_COLUMNS = [
  'proposal', 'user', 'session', 'run', 'profile', 'type', 'gpus', 'gpuFlavour', 'cpuCores', 'memoryGiB',
  'start', 'end', 'hours', 'gpuHours', 'cpuHours', 'endReason', 'imageDigest', 'namespace',
] as const satisfies readonly (keyof UsageRow)[];

/** A row with the unrounded seconds its totals are summed from. */
export interface CutRow {
  row: UsageRow;
  /** The run's start in milliseconds since the epoch (for ordering). */
  startMs: number;
  seconds: number;
  gpuSeconds: number;
  cpuSeconds: number;
}

/** What to export. */
export interface UsageQuery {
  /** Only records whose `spec.proposal` is this one. */
  readonly proposal?: string;
  readonly interval: Interval;
}

const GIB = 1024 ** 3;

/** `x` rounded to `digits` decimals (half away from zero; no `-0`). */
export function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  const r = Math.sign(x) * Math.round(Math.abs(x) * f) / f;
  return r === 0 ? 0 : r;
}

/** An API timestamp in one spelling: UTC, `Z`, milliseconds only when there are any. */
function utc(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/**
 * The rows of `records` that match `query`, sorted by proposal, start, session and run.
 *
 * Contract: a run is included when it overlaps the interval (see {@link cutToInterval}); its
 * hours, GPU-hours and CPU-hours count only the part inside the interval, while `start` and
 * `end` stay the run's own. Figures come from the record's resources (`gpus`, `cpuMillis`)
 * times that time, so a row checks by hand: `gpuHours = gpus × hours`.
 * Records with an unreadable `start` or `end` are returned in `unreadable` (namespace/name),
 * never guessed.
 */
export function usageRows(records: readonly UsageRecord[], query: UsageQuery): { rows: CutRow[]; unreadable: string[] } {
  const rows: CutRow[] = [];
  const unreadable: string[] = [];
  for (const record of records) {
    const spec = record.spec;
    if (query.proposal !== undefined && spec.proposal !== query.proposal) continue;
    const start = Date.parse(spec.start);
    const end = Date.parse(spec.end);
    if (Number.isNaN(start) || Number.isNaN(end)) {
      unreadable.push(`${record.metadata.namespace ?? ''}/${record.metadata.name ?? ''}`);
      continue;
    }
    const cut = cutToInterval(start, end, query.interval);
    if (!cut) continue;
    const seconds = (cut.to - cut.from) / 1000;
    const cpuCores = spec.cpuMillis / 1000;
    rows.push({
      startMs: start,
      seconds,
      gpuSeconds: spec.gpus * seconds,
      cpuSeconds: cpuCores * seconds,
      row: {
        proposal: spec.proposal,
        user: spec.user,
        session: spec.session,
        run: spec.run,
        profile: spec.profile ?? '',
        type: spec.type ?? '',
        gpus: spec.gpus,
        gpuFlavour: spec.gpuFlavour ?? '',
        cpuCores,
        memoryGiB: round(spec.memoryBytes / GIB),
        start: utc(start),
        end: utc(end),
        hours: round(seconds / 3600),
        gpuHours: round((spec.gpus * seconds) / 3600),
        cpuHours: round((cpuCores * seconds) / 3600),
        endReason: spec.endReason,
        imageDigest: spec.imageDigest ?? '',
        namespace: record.metadata.namespace ?? '',
      },
    });
  }
  rows.sort(compare);
  return { rows, unreadable };
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function compare(a: CutRow, b: CutRow): number {
  return (
    byText(a.row.proposal, b.row.proposal) ||
    a.startMs - b.startMs ||
    byText(a.row.namespace, b.row.namespace) ||
    byText(a.row.session, b.row.session) ||
    a.row.run - b.row.run
  );
}
