// SPDX-License-Identifier: Apache-2.0
/**
 * Renders docs/api-reference.md from the kind table in src/api/v1alpha1: for every kind its names, printer columns
 * and object rules, and for every field of spec and status its path, type, whether it is required, its default, its
 * description and its validation (bounds, patterns, enums and CEL rules with the message the apiserver returns).
 * Pure: the same schemas always give the same text, so `npm run check:drift` can compare it.
 */
import type { KindDefinition } from '../src/api/v1alpha1/kinds.ts';
import { CATEGORY, GROUP, VERSION } from '../src/api/v1alpha1/group.ts';
import { Condition, DURATION_PATTERN, QUANTITY_PATTERN } from '../src/api/v1alpha1/schema-helpers.ts';
import type { CelRule } from '../src/api/v1alpha1/schema-helpers.ts';

/** The parts of a JSON schema node that the reference reads. */
interface SchemaNode {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: CelRule[];
}

/** One row of a field table. */
export interface FieldRow {
  /** Dotted path from the object root, `[]` for list items, e.g. `spec.datasets[].name`. */
  path: string;
  type: string;
  required: boolean;
  default?: unknown;
  description: string;
  /** Each rule in words, e.g. `at most 63 characters`, or a CEL rule with its message. */
  validation: string[];
}

/** Inline code that survives any backtick inside `text`. */
export function code(text: string): string {
  const fence = '`'.repeat((text.match(/`+/g) ?? []).reduce((n, run) => Math.max(n, run.length), 0) + 1);
  return fence.length > 1 ? `${fence} ${text} ${fence}` : `\`${text}\``;
}

/** Prose with the characters Markdown would take for HTML escaped (`/data/<name>` stays visible). */
export function prose(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Text fit for one table cell: no line breaks, pipes escaped (GitHub tables split on them even inside code). */
export function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

/** `status.conditions` (TypeBox copies the list when it is made optional; its item schema stays the same object). */
const isConditions = (n: SchemaNode): boolean => n.type === 'array' && n.items === (Condition as unknown);

/** The type in words: `string`, `quantity`, `duration`, `array of object`, `map of string to integer`, ... */
export function typeOf(n: SchemaNode): string {
  if (isConditions(n)) return 'array of [Condition](#condition)';
  if (n['x-kubernetes-int-or-string']) return n.pattern === QUANTITY_PATTERN ? 'quantity (integer or string)' : 'integer or string';
  if (n.type === 'string' && n.pattern === DURATION_PATTERN) return 'duration (string)';
  if (n.type === 'string' && n.format === 'date-time') return 'date-time (RFC 3339 string)';
  if (n.type === 'array') return `array of ${n.items ? typeOf(n.items) : 'any'}`;
  if (n.type === 'object' && typeof n.additionalProperties === 'object') return `map of string to ${typeOf(n.additionalProperties)}`;
  return n.type ?? 'any';
}

function range(min: number | undefined, max: number | undefined, unit: string): string | undefined {
  if (min !== undefined && max !== undefined) return `${min} to ${max}${unit}`;
  if (min !== undefined) return `at least ${min}${unit}`;
  if (max !== undefined) return `at most ${max}${unit}`;
  return undefined;
}

/** Every rule of one node in words (not those of its children). */
export function rulesOf(n: SchemaNode): string[] {
  const out: string[] = [];
  const quantity = n.pattern === QUANTITY_PATTERN;
  if (n.enum) out.push(`one of ${n.enum.map((v) => code(String(v))).join(', ')}`);
  if (n.pattern && !quantity && n.pattern !== DURATION_PATTERN) out.push(`matches ${code(n.pattern)}`);
  if (n.type === 'string' && n.pattern === DURATION_PATTERN) out.push('e.g. `90m`, `8h`, `1h30m`, `2d`');
  const length = range(n.minLength, n.maxLength, ' characters');
  if (length && n.pattern !== DURATION_PATTERN) out.push(length);
  if (quantity) {
    if (n.minimum === 0) out.push('non-negative');
  } else {
    const bounds = range(n.minimum, n.maximum, '');
    if (bounds) out.push(bounds);
  }
  const items = range(n.minItems, n.maxItems, ' items');
  if (items) out.push(items);
  if (n.maxProperties !== undefined) out.push(`at most ${n.maxProperties} entries`);
  if (n['x-kubernetes-list-type'] === 'set') out.push('no duplicates');
  if (n['x-kubernetes-list-type'] === 'map') out.push(`items keyed by ${(n['x-kubernetes-list-map-keys'] ?? []).map(code).join(', ')} (unique)`);
  for (const r of n['x-kubernetes-validations'] ?? []) out.push(`CEL ${code(r.rule)}: “${prose(r.message)}”`);
  return out;
}

/**
 * The rows of `node` at `path` and of everything below it, in declaration order. List items are described under
 * `path[]` (their own rules go to the list's row); maps of objects under `path.<key>`; conditions link to the shared
 * Condition table instead of repeating it.
 */
export function fieldRows(node: SchemaNode, path: string, required: boolean): FieldRow[] {
  const row: FieldRow = { path, type: typeOf(node), required, description: node.description ?? '', validation: rulesOf(node) };
  if (node.default !== undefined) row.default = node.default;
  const rows = [row];
  if (isConditions(node)) return rows;
  let inner: { node: SchemaNode; path: string } | undefined;
  if (node.type === 'array' && node.items?.properties) {
    inner = { node: node.items, path: `${path}[]` };
    const itemRules = rulesOf(node.items).map((r) => `each item: ${r}`);
    row.validation.push(...itemRules);
    if (node.items.description && !row.description) row.description = node.items.description;
  } else if (typeof node.additionalProperties === 'object' && node.additionalProperties.properties) {
    inner = { node: node.additionalProperties, path: `${path}.<key>` };
  } else if (node.properties) {
    inner = { node, path };
  }
  for (const [name, child] of Object.entries(inner?.node.properties ?? {})) {
    rows.push(...fieldRows(child, `${inner!.path}.${name}`, inner!.node.required?.includes(name) ?? false));
  }
  return rows;
}

/** A required field with a default may be left out: the apiserver fills it in before it validates. */
function required(r: FieldRow): string {
  if (!r.required) return 'no';
  return r.default === undefined ? 'yes' : 'no (defaulted)';
}

/** A Markdown table of `rows`. */
export function renderFieldTable(rows: readonly FieldRow[]): string {
  const lines = ['| Field | Type | Required | Default | Description | Validation |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const def = r.default === undefined ? '' : code(JSON.stringify(r.default));
    lines.push(`| ${cell(code(r.path))} | ${cell(r.type)} | ${required(r)} | ${cell(def)} | ${cell(prose(r.description))} | ${cell(r.validation.join('; '))} |`);
  }
  return lines.join('\n');
}

function anchor(kind: string): string {
  return kind.toLowerCase();
}

/** The section of one kind. */
export function renderKind(def: KindDefinition): string {
  const parts = [
    `## ${def.kind}`,
    prose(def.description),
    [
      `- API version: ${code(`${GROUP}/${VERSION}`)}, kind ${code(def.kind)}, namespaced`,
      `- Resource: ${code(`${def.plural}.${GROUP}`)}; short names ${def.shortNames.map(code).join(', ')}; category ${code(CATEGORY)}`,
      `- Subresources: ${code('status')} (written only by the operator)`,
    ].join('\n'),
  ];
  if (def.rootRules.length > 0) {
    parts.push(`Object rules:\n\n${def.rootRules.map((r) => `- CEL ${code(r.rule)}: “${prose(r.message)}”`).join('\n')}`);
  }
  const columns = def.printerColumns.map((c) => `| ${c.name} | ${cell(code(c.jsonPath))} | ${c.priority ? 'with `-o wide`' : 'always'} |`);
  parts.push(`Columns of \`kubectl get ${def.shortNames[0]}\`:\n\n| Column | JSONPath | Shown |\n|---|---|---|\n${columns.join('\n')}`);
  parts.push(`### ${def.kind} spec\n\n${renderFieldTable(fieldRows(def.spec as SchemaNode, 'spec', true))}`);
  parts.push(`### ${def.kind} status\n\n${renderFieldTable(fieldRows(def.status as SchemaNode, 'status', false))}`);
  return parts.join('\n\n');
}

/** The whole reference for `kinds`. */
export function renderApiReference(kinds: readonly KindDefinition[]): string {
  const toc = kinds.map((k) => `- [${k.kind}](#${anchor(k.kind)})`).join('\n');
  const condition = fieldRows(Condition as unknown as SchemaNode, 'conditions[]', true).slice(1);
  return [
    '<!-- Generated by `npm run gen` from src/api/v1alpha1; do not edit. -->',
    `# API reference: ${GROUP}/${VERSION}`,
    'Every kind is namespaced; a proposal has one namespace, labelled `panalysis.io/proposal=<id>`. The tables list each ' +
      'field with its type, whether it is required, the default the apiserver fills in, and the rules the apiserver checks ' +
      'on every create and update (OpenAPI bounds and patterns, and CEL rules, whose message is what a refused request ' +
      'shows). Fields not listed here do not exist: kubectl refuses them, other clients see them dropped.',
    toc + '\n- [Condition](#condition)',
    ...kinds.map(renderKind),
    `## Condition\n\nEvery kind reports ${code('status.conditions')} as the Kubernetes API conventions define them; ${code('Ready')} summarises the others. ` +
      `The [admin guide](admin-guide.md#troubleshooting-by-condition-reason) lists every condition type and reason with its cause and fix.\n\n${renderFieldTable(condition)}`,
  ].join('\n\n') + '\n';
}
