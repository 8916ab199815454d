// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildCrd, buildOpenApiSchema, findStructuralProblems } from './crd.ts';
import { KINDS } from './v1alpha1/kinds.ts';
import { validateObject } from './validate.ts';

const samplesDir = join(import.meta.dirname, '..', '..', 'manifests', 'samples');
const sample = (file: string) => parse(readFileSync(join(samplesDir, file), 'utf8')) as Record<string, unknown>;

describe('CRD generation', () => {
  it.each(KINDS.map((k) => [k.kind, k]))('%s has a structural schema', (_kind, def) => {
    expect(findStructuralProblems(buildOpenApiSchema(def))).toEqual([]);
  });

  it('finds the problems the apiserver would refuse', () => {
    const bad = { type: 'object', properties: { a: { const: 'x', type: 'string' }, b: { type: 'object', patternProperties: {} }, c: { anyOf: [{ type: 'string' }] }, d: {} } };
    expect(findStructuralProblems(bad)).toEqual([
      '/a: const is not allowed in a CRD schema',
      '/b: patternProperties is not allowed in a CRD schema',
      '/c: missing type',
      '/c/anyOf: type inside anyOf is only allowed as {type: integer} or {type: string} with x-kubernetes-int-or-string',
      '/d: missing type',
    ]);
  });

  it('gives every kind the category, a status subresource and printer columns', () => {
    for (const def of KINDS) {
      const crd = buildCrd(def) as { spec: { names: { categories: string[] }; versions: Array<{ subresources: unknown; additionalPrinterColumns: unknown[] }> } };
      expect(crd.spec.names.categories).toEqual(['panalysis']);
      expect(crd.spec.versions[0]!.subresources).toEqual({ status: {} });
      expect(crd.spec.versions[0]!.additionalPrinterColumns.length).toBeGreaterThan(3);
    }
    expect(KINDS.find((k) => k.kind === 'ResourceQuota')!.shortNames).toContain('pquota');
  });
});

describe('validateObject', () => {
  it.each(['analysissession-jupyter.yaml', 'analysissession-desktop-gpu.yaml', 'datasetmount-nfs.yaml', 'datasetmount-gpfs-writable.yaml', 'resourcequota.yaml'])('accepts the sample %s', (file) => {
    expect(validateObject(sample(file))).toEqual([]);
  });

  const wants: Record<string, { mutate: (o: Record<string, any>) => void; field: string }> = {
    'an unknown session type': { mutate: (o) => (o.spec.type = 'vm'), field: 'spec.type' },
    'a negative cpu': { mutate: (o) => (o.spec.resources.cpu = -2), field: 'spec.resources.cpu' },
    'a gpu count of zero': { mutate: (o) => (o.spec.resources = { gpu: { flavour: 'a100', count: 0 } }), field: 'spec.resources.gpu.count' },
    'a missing user': { mutate: (o) => delete o.spec.user, field: 'spec' },
    'a user with capitals': { mutate: (o) => (o.spec.user = 'Alice'), field: 'spec.user' },
  };
  it.each(Object.entries(wants))('refuses %s and names the field', (_name, { mutate, field }) => {
    const obj = sample('analysissession-jupyter.yaml');
    mutate(obj as Record<string, any>);
    const errors = validateObject(obj);
    expect(errors.map((e) => e.field)).toContain(field);
  });

  it('names the allowed values of an enum', () => {
    const obj = sample('analysissession-jupyter.yaml') as Record<string, any>;
    obj.spec.type = 'vm';
    expect(validateObject(obj).find((e) => e.field === 'spec.type')?.message).toMatch(/jupyter, desktop/);
  });

  it('refuses an unknown kind', () => {
    expect(validateObject({ kind: 'Nope' })).toEqual([{ field: 'kind', message: 'unknown kind Nope' }]);
  });
});
