// SPDX-License-Identifier: Apache-2.0
/**
 * The admin guide's troubleshooting tables stay complete: every condition reason the controllers can write (string
 * literals on lines that set a reason) is documented there with its cause and fix; and every configuration snippet
 * in it is valid configuration, so the guide names no key the operator does not know.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { parseConfig } from '../src/config/load.ts';
import { OperatorConfig } from '../src/config/schema.ts';

const ROOT = join(import.meta.dirname, '..');
const GUIDE = readFileSync(join(ROOT, 'docs', 'admin-guide.md'), 'utf8');
const TROUBLESHOOTING = GUIDE.slice(GUIDE.indexOf('## Troubleshooting by condition reason'));

/** Literals on reason lines that are not reasons: condition statuses, Event types and actions, kubelet states skipped. */
const NOT_REASONS = new Set(['True', 'False', 'Unknown', 'Normal', 'Warning', 'Reconcile', 'Admit', 'Account', 'Stop', 'ContainerCreating', 'PodInitializing', 'Succeeded', 'Failed']);

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

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
}

/** Paths in `value` that `schema` does not define (the parser ignores most unknown keys, a reader would not). */
export function unknownKeys(value: unknown, schema: SchemaNode, path = ''): string[] {
  if (Array.isArray(value)) return schema.items ? value.flatMap((v, i) => unknownKeys(v, schema.items!, `${path}[${i}]`)) : [];
  if (value === null || typeof value !== 'object' || !schema.properties) return [];
  return Object.entries(value).flatMap(([key, v]) => {
    const child = schema.properties![key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    const at = path ? `${path}.${key}` : key;
    return child ? unknownKeys(v, child, at) : [at];
  });
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

  it('documents every condition reason of the controllers and the policies they apply under "Troubleshooting by condition reason"', () => {
    const sources = [...controllerSources(join(ROOT, 'src', 'controllers')), ...controllerSources(join(ROOT, 'src', 'policy'))];
    const reasons = [...new Set(sources.flatMap(reasonLiterals))].sort();
    expect(reasons.length).toBeGreaterThan(40);
    const missing = reasons.filter((r) => !TROUBLESHOOTING.includes(`\`${r}\``));
    expect(missing, 'reasons without a row in docs/admin-guide.md, "Troubleshooting by condition reason"').toEqual([]);
  });

  it('finds keys a schema does not define', () => {
    const schema: SchemaNode = { properties: { a: { properties: { b: {} } }, list: { items: { properties: { name: {} } } }, map: { properties: {}, additionalProperties: {} } } };
    expect(unknownKeys({ a: { b: 1, c: 2 }, list: [{ name: 'x', nmae: 'y' }], map: { any: 1 }, z: 0 }, schema)).toEqual(['a.c', 'list[0].nmae', 'z']);
  });

  it('shows only configuration the operator accepts', () => {
    const base = parse(readFileSync(join(ROOT, 'manifests', 'config', 'operator.yaml'), 'utf8')) as Record<string, unknown>;
    const snippets = [...GUIDE.matchAll(/```yaml\n([\s\S]*?)```/g)].flatMap((m) => parseAllDocuments(m[1]!).map((d) => d.toJS() as Record<string, unknown> | null)).filter((doc) => doc !== null && 'config' in doc);
    expect(snippets.length).toBeGreaterThanOrEqual(3);
    for (const { config } of snippets as Array<{ config: Record<string, unknown> }>) {
      // A snippet with its own profiles stands alone: the embedded default's recipes name profiles it replaces.
      const merged = { ...base, ...('profiles' in config && !('recipes' in config) ? { recipes: [] } : {}), ...config };
      expect(() => parseConfig(stringify(merged), 'admin guide')).not.toThrow();
      expect(unknownKeys(config, OperatorConfig as SchemaNode)).toEqual([]);
    }
  });
});
