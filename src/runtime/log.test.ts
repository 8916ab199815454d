// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { jsonLogger } from './log.ts';

describe('jsonLogger', () => {
  it('writes one JSON line per message with inherited key/values, above the level', () => {
    const lines: string[] = [];
    const logger = jsonLogger({ level: 'info', write: (l) => lines.push(l), now: () => 0 }).withValues({ controller: 'sessions' });
    logger.debug('Skipped');
    logger.info('Created Pod', { namespace: 'ns', name: 'p' });
    logger.error('Failed to apply', { err: new Error('conflict'), size: 10n });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { ts: '1970-01-01T00:00:00.000Z', level: 'info', msg: 'Created Pod', controller: 'sessions', namespace: 'ns', name: 'p' },
      { ts: '1970-01-01T00:00:00.000Z', level: 'error', msg: 'Failed to apply', controller: 'sessions', err: 'conflict', size: '10' },
    ]);
    expect(lines.every((l) => l.endsWith('\n'))).toBe(true);
  });

  it('survives values it cannot serialise', () => {
    const lines: string[] = [];
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    jsonLogger({ write: (l) => lines.push(l) }).info('Observed cycle', { cyclic });
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ msg: 'Observed cycle', logError: 'unserialisable' });
  });
});
