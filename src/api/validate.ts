// SPDX-License-Identifier: Apache-2.0
/**
 * Runtime validation of stored objects against the same schemas the CRDs carry.
 * The apiserver already enforced them on write; the operator re-checks because an
 * object may predate a schema change, and it must never crash on what it reads.
 * CEL rules are not evaluated here: they are the apiserver's.
 */
import Schema from 'typebox/schema';
import { buildOpenApiSchema } from './crd.ts';
import { KINDS } from './v1alpha1/kinds.ts';
import type { KindDefinition } from './v1alpha1/kinds.ts';

/** One problem, with the field path as kubectl prints it (`spec.resources.cpu`). */
export interface FieldError {
  field: string;
  message: string;
}

type Validator = ReturnType<typeof Schema.Compile>;
const compiled = new Map<string, Validator>();

function validatorFor(def: KindDefinition): Validator {
  let validator = compiled.get(def.kind);
  if (!validator) {
    const schema = buildOpenApiSchema(def);
    delete (schema.properties as Record<string, unknown>).status;
    validator = Schema.Compile(schema as never);
    compiled.set(def.kind, validator);
  }
  return validator;
}

function toField(instancePath: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(root)';
}

/**
 * Checks `obj` (apiVersion, kind, metadata, spec) against the schema of its kind.
 * Returns the problems, or an empty list. Unknown kinds yield one error.
 */
export function validateObject(obj: unknown): FieldError[] {
  const kind = (obj as { kind?: unknown } | null)?.kind;
  const def = KINDS.find((k) => k.kind === kind);
  if (!def) return [{ field: 'kind', message: `unknown kind ${String(kind)}` }];
  const validator = validatorFor(def);
  if (validator.Check(obj)) return [];
  const [, errors] = validator.Errors(obj) as unknown as [boolean, Array<{ instancePath: string; message: string; params?: Record<string, unknown> }>];
  return errors.map((e) => {
    const allowed = e.params?.allowedValues;
    return { field: toField(e.instancePath), message: Array.isArray(allowed) ? `${e.message}: ${allowed.join(', ')}` : e.message };
  });
}
