// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import { DEMO_CONFIG } from '../operator/spawn.ts';
import { demoConfigText, writeDemoConfig } from './demo-config.ts';

describe('the demo configuration of panalysis up', () => {
  it('loads, with a facility default quota for the demo proposal', () => {
    const config = parseConfig(demoConfigText(), 'the demo configuration');
    expect(config.quotas).toEqual({ defaultName: 'default', default: { hard: { sessions: 6, sessionsPerUser: 4, gpus: 2 }, budgets: { gpuHours: 100, onExhausted: 'Warn' }, onExceeded: 'Queue' } });
  });

  it('is the tests\' configuration otherwise, which has no default quota', () => {
    const tests = parseConfig(readFileSync(DEMO_CONFIG, 'utf8'));
    expect(tests.quotas.default).toBeUndefined();
    expect({ ...parseConfig(demoConfigText()), quotas: tests.quotas }).toEqual(tests);
  });

  it('lets hostPath datasets use the extra roots it is given (the real node\'s demo data)', () => {
    const config = parseConfig(demoConfigText(['/var/lib/demo-data']));
    expect(config.datasets.hostPath).toEqual([...parseConfig(readFileSync(DEMO_CONFIG, 'utf8')).datasets.hostPath, '/var/lib/demo-data']);
  });

  it('is written to a file the operator can be started with', () => {
    const dir = mkdtempSync(join(tmpdir(), 'panalysis-demo-config-'));
    try {
      const file = writeDemoConfig(dir);
      expect(parseConfig(readFileSync(file, 'utf8'), file).quotas.default?.hard?.sessions).toBe(6);
      expect(readFileSync(file, 'utf8')).toContain('# Facility default quota of the demo');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
