// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../cli/args.ts';
import { parseUsageOptions } from './options.ts';

/** The options of a command line as main.ts parses it. */
const options = (line: string) => parseUsageOptions(parseArgs(['usage', ...line.split(' ').filter(Boolean)], ['leader-elect', 'local', 'help']));

describe('parseUsageOptions', () => {
  it('defaults to every proposal, every namespace, no interval, CSV', () => {
    expect(options('')).toEqual({ help: false, proposal: undefined, namespace: undefined, format: 'csv', interval: {} });
  });

  it('reads every flag', () => {
    expect(options('--proposal 20231234 --since 2026-11-01 --until=2026-12-01T06:00:00+01:00 --format json --namespace proposal-a')).toEqual({
      help: false,
      proposal: '20231234',
      namespace: 'proposal-a',
      format: 'json',
      interval: { since: Date.parse('2026-11-01T00:00:00Z'), until: Date.parse('2026-12-01T05:00:00Z') },
    });
  });

  it('lets --help win over anything else', () => {
    expect(options('--help --format xml')).toMatchObject({ help: true });
  });

  it.each([
    ['--proposal', '--proposal needs a value, e.g. --proposal 20231234'],
    ['--proposal --since 2026-11-01', '--proposal needs a value'],
    ['--proposal= ', '--proposal needs a value'],
    ['--proposal a/b', '--proposal "a/b" is not a proposal id'],
    ['--since 2026-13-01', '--since "2026-13-01" is not a date or instant; give a date like 2026-11-01'],
    ['--until 2026-11-01T10:00', '--until "2026-11-01T10:00" is not a date or instant'],
    ['--since 2026-12-01 --until 2026-11-01', '--until must be later than --since'],
    ['--since 2026-11-01 --until 2026-11-01', '--until must be later than --since'],
    ['--format xml', '--format "xml" is not known; use --format csv or --format json'],
    ['--namespace Bad_NS', '--namespace "Bad_NS" is not a namespace name'],
    ['--propsal 20231234', 'unknown flag --propsal; the flags are --proposal, --since, --until, --format, --namespace, --help'],
    ['-n ns', 'unexpected argument "-n"'],
    ['20231234', 'unexpected argument "20231234"; every option is a flag, e.g. --proposal 20231234'],
  ])('refuses %j with one line naming the flag', (line, message) => {
    const result = options(line);
    expect(result).toHaveProperty('error');
    const { error } = result as { error: string };
    expect(error).toContain(message);
    expect(error).not.toContain('\n');
  });
});
