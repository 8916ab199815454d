// SPDX-License-Identifier: Apache-2.0
/** The flags of `panalysis usage`, checked. Pure: a refusal is one line naming the flag and the fix. */
import type { ParsedArgs } from '../cli/args.ts';
import { parseInstant } from './interval.ts';
import type { Interval } from './interval.ts';

export type UsageFormat = 'csv' | 'json';

/** What `panalysis usage` was asked for. */
export interface UsageOptions {
  readonly help: boolean;
  readonly proposal?: string;
  readonly namespace?: string;
  readonly interval: Interval;
  readonly format: UsageFormat;
}

/** The flags `panalysis usage` takes. */
export const USAGE_FLAGS = ['proposal', 'since', 'until', 'format', 'namespace', 'help'] as const;

const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const INSTANT_FIX = 'give a date like 2026-11-01 (00:00 UTC) or an RFC 3339 instant like 2026-11-01T08:00:00Z';

/** The value of the `panalysis.io/proposal` label of `proposal`'s records: its first 63 characters. */
export const proposalLabel = (proposal: string): string => proposal.slice(0, 63);

/**
 * Checks `args` (positionals start with `usage`); `--help` wins over every other flag.
 * @returns the options, or `{ error }`: one line naming the flag and the fix (exit code 2).
 */
export function parseUsageOptions(args: ParsedArgs): UsageOptions | { error: string } {
  if (args.flags.help === true || args.flags.help === 'true') return { help: true, interval: {}, format: 'csv' };
  const extra = args.positionals.slice(1);
  if (extra.length > 0) return { error: `unexpected argument "${extra[0]}"; every option is a flag, e.g. --proposal 20231234` };
  for (const flag of Object.keys(args.flags)) {
    if (!(USAGE_FLAGS as readonly string[]).includes(flag)) {
      return { error: `unknown flag --${flag}; the flags are ${USAGE_FLAGS.map((f) => `--${f}`).join(', ')}` };
    }
  }
  const value = (flag: string, example: string): string | { error: string } | undefined => {
    const v = args.flags[flag];
    if (v === undefined) return undefined;
    if (v === true || v === '') return { error: `--${flag} needs a value, e.g. --${flag} ${example}` };
    return v;
  };

  const proposal = value('proposal', '20231234');
  if (typeof proposal === 'object') return proposal;
  // Records carry the proposal in a label cut to 63 characters (a label value's limit).
  if (proposal !== undefined && !LABEL_VALUE.test(proposalLabel(proposal))) {
    return { error: `--proposal "${proposal}" is not a proposal id (letters, digits, "-", "_" and "."); omit it to export every proposal` };
  }
  const namespace = value('namespace', 'proposal-20231234');
  if (typeof namespace === 'object') return namespace;
  if (namespace !== undefined && !DNS_LABEL.test(namespace)) {
    return { error: `--namespace "${namespace}" is not a namespace name (lower-case letters, digits and "-"); omit it to read every namespace` };
  }
  const format = value('format', 'json') ?? 'csv';
  if (typeof format === 'object') return format;
  if (format !== 'csv' && format !== 'json') return { error: `--format "${format}" is not known; use --format csv or --format json` };

  const ends: { since?: number; until?: number } = {};
  for (const flag of ['since', 'until'] as const) {
    const text = value(flag, flag === 'since' ? '2026-11-01' : '2026-12-01');
    if (typeof text === 'object') return text;
    if (text === undefined) continue;
    const ms = parseInstant(text);
    if (ms === undefined) return { error: `--${flag} "${text}" is not a date or instant; ${INSTANT_FIX}` };
    ends[flag] = ms;
  }
  if (ends.since !== undefined && ends.until !== undefined && ends.until <= ends.since) {
    return { error: '--until must be later than --since (the interval is [since, until))' };
  }
  return { help: false, proposal, namespace, format, interval: ends };
}
