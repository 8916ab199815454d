// SPDX-License-Identifier: Apache-2.0
/**
 * The closing line of a run tells the truth: a failed set-up, an unhandled error and a
 * failed test count as failed, and every skip says why. Runs vitest itself on fixture
 * files with this reporter and reads the line it prints.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');

async function runFixture(file: string, config = 'test/fixtures/summary/vitest.config.ts'): Promise<{ code: number; stdout: string; closing: string }> {
  const args = [VITEST, 'run', '--root', ROOT, '--config', config, file];
  try {
    const { stdout } = await run(process.execPath, args, { cwd: ROOT, env: { ...process.env, CI: 'true' } });
    return { code: 0, stdout, closing: closing(stdout) };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout, closing: closing(e.stdout) };
  }
}
const closing = (stdout: string): string => stdout.trim().split('\n').filter((l) => l.startsWith('vitest: ')).at(-1) ?? '(no closing line)';

describe('the closing line of a test run', () => {
  test('a suite whose set-up fails counts as 1 failed, its tests as skipped with the reason', async () => {
    const r = await runFixture('setup-fails.fixture.ts');
    expect(r.closing).toBe('vitest: 0 passed, 1 failed, 2 skipped');
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/first: suite "a suite with a broken set-up" set-up failed: cannot start the test directory/);
  });

  test('skips are listed with their reason, or flagged when they give none', async () => {
    const r = await runFixture('mixed.fixture.ts');
    expect(r.closing).toBe('vitest: 1 passed, 0 failed, 2 skipped');
    expect(r.stdout).toMatch(/skips with a reason: no GPU on this machine/);
    expect(r.stdout).toMatch(/skipped without a reason: skipped without a reason/);
  });

  test('an unhandled error counts as failed even when every test passed', async () => {
    const r = await runFixture('unhandled.fixture.ts');
    expect(r.closing).toBe('vitest: 1 passed, 1 failed, 0 skipped');
    expect(r.code).not.toBe(0);
  });

  test('a global set-up that fails (no cluster) still ends with a failed line', async () => {
    const r = await runFixture('mixed.fixture.ts', 'test/fixtures/summary/vitest.global-setup.config.ts');
    expect(r.closing).toBe('vitest: 0 passed, 1 failed, 0 skipped');
    expect(r.code).not.toBe(0);
  });
});
