// SPDX-License-Identifier: Apache-2.0
/**
 * The admin guide's troubleshooting tables stay complete: every condition reason the controllers can write (string
 * literals on lines that set a reason) is documented there with its cause and fix.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const GUIDE = readFileSync(join(ROOT, 'docs', 'admin-guide.md'), 'utf8');
const TROUBLESHOOTING = GUIDE.slice(GUIDE.indexOf('## Troubleshooting by condition reason'));

/** Literals on reason lines that are not reasons: condition statuses, Event types and actions, kubelet states skipped. */
const NOT_REASONS = new Set(['True', 'False', 'Unknown', 'Normal', 'Warning', 'Reconcile', 'ContainerCreating', 'PodInitializing', 'Succeeded', 'Failed']);

/** PascalCase string literals on the lines of `source` that set or pass a condition reason. */
export function reasonLiterals(source: string): string[] {
  const found = new Set<string>();
  for (const line of source.split('\n')) {
    if (/^\s*(\/\/|\*|\/\*\*)/.test(line) || !/reason|refuse\(|wait\(/i.test(line)) continue;
    for (const [, word] of line.matchAll(/'([A-Z][A-Za-z0-9]+)'/g)) if (!NOT_REASONS.has(word!)) found.add(word!);
  }
  return [...found].sort();
}

function controllerSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'));
}

describe('admin guide', () => {
  it('finds reasons on the lines that set them, and nothing else', () => {
    const source = [
      "  if (x) return { status: 'False', reason: 'UserNotFound', message: 'spec.user: ...' };",
      "  const reason = expired ? 'LifetimeExpired' : 'Stopped';",
      "  return refuse('TooManyGroups', `spec.datasets: ...`);",
      "  const type = 'Ready';",
      "  // reason: 'InComment'",
    ].join('\n');
    expect(reasonLiterals(source)).toEqual(['LifetimeExpired', 'Stopped', 'TooManyGroups', 'UserNotFound']);
  });

  it('documents every condition reason of the controllers under "Troubleshooting by condition reason"', () => {
    const reasons = [...new Set(controllerSources(join(ROOT, 'src', 'controllers')).flatMap(reasonLiterals))].sort();
    expect(reasons.length).toBeGreaterThan(40);
    const missing = reasons.filter((r) => !TROUBLESHOOTING.includes(`\`${r}\``));
    expect(missing, 'reasons without a row in docs/admin-guide.md, "Troubleshooting by condition reason"').toEqual([]);
  });
});
