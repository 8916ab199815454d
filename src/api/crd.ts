// SPDX-License-Identifier: Apache-2.0
/**
 * Renders a {@link KindDefinition} into an apiextensions.k8s.io/v1 CustomResourceDefinition
 * with a structural schema, the status subresource, printer columns and our category.
 */
import { CATEGORY, GROUP, VERSION } from './v1alpha1/group.ts';
import type { KindDefinition } from './v1alpha1/kinds.ts';

/** Plain JSON copy of a TypeBox schema (drops TypeBox's symbol-keyed metadata). */
export function toPlainSchema(schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

/** The openAPIV3Schema of a kind: apiVersion, kind, metadata, spec (required) and status. */
export function buildOpenApiSchema(def: KindDefinition): Record<string, unknown> {
  const schema: Record<string, unknown> = {
    type: 'object',
    description: def.description,
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string', description: `${GROUP}/${VERSION}` },
      kind: { type: 'string', description: def.kind },
      metadata: { type: 'object' },
      spec: toPlainSchema(def.spec),
      status: toPlainSchema(def.status),
    },
  };
  if (def.rootRules.length > 0) schema['x-kubernetes-validations'] = toPlainSchema(def.rootRules);
  return schema;
}

/** The CustomResourceDefinition object for one kind. */
export function buildCrd(def: KindDefinition): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'panalysis', 'app.kubernetes.io/part-of': 'panalysis' },
    },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: [CATEGORY],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: buildOpenApiSchema(def) },
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
        },
      ],
    },
  };
}

const FORBIDDEN = ['$ref', 'definitions', '$defs', 'dependencies', 'patternProperties', 'const', 'readOnly', 'writeOnly', 'id', '$id', 'xml', 'deprecated', 'discriminator', 'if', 'then', 'else'];
const JUNCTORS = ['allOf', 'anyOf', 'oneOf', 'not'];

/**
 * Lists every way `schema` breaks the structural-schema rules (KEP-2335) that the
 * apiserver enforces, as `path: problem` strings; empty means structural.
 */
export function findStructuralProblems(schema: unknown, path = ''): string[] {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return [];
  const node = schema as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of FORBIDDEN) if (key in node) problems.push(`${path || '/'}: ${key} is not allowed in a CRD schema`);
  if (node.additionalProperties === false) problems.push(`${path}: additionalProperties: false is not allowed`);
  if (node.uniqueItems === true) problems.push(`${path}: uniqueItems: true is not allowed`);
  const free = node['x-kubernetes-int-or-string'] === true || node['x-kubernetes-preserve-unknown-fields'] === true;
  if (!('type' in node) && !free) problems.push(`${path || '/'}: missing type`);
  for (const junctor of JUNCTORS) {
    const branches = node[junctor];
    const list = Array.isArray(branches) ? branches : branches ? [branches] : [];
    for (const branch of list as Array<Record<string, unknown>>) {
      for (const key of ['description', 'default', 'nullable']) {
        if (key in branch) problems.push(`${path}/${junctor}: ${key} is not allowed inside ${junctor}`);
      }
      const intOrString = free && Object.keys(branch).length === 1 && (branch.type === 'integer' || branch.type === 'string');
      if ('type' in branch && !intOrString) problems.push(`${path}/${junctor}: type inside ${junctor} is only allowed as {type: integer} or {type: string} with x-kubernetes-int-or-string`);
    }
  }
  const props = node.properties as Record<string, unknown> | undefined;
  for (const [name, child] of Object.entries(props ?? {})) problems.push(...findStructuralProblems(child, `${path}/${name}`));
  if (node.items) problems.push(...findStructuralProblems(node.items, `${path}/items`));
  if (typeof node.additionalProperties === 'object') problems.push(...findStructuralProblems(node.additionalProperties, `${path}/additionalProperties`));
  return problems;
}
