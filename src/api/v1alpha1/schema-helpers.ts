// SPDX-License-Identifier: Apache-2.0
/**
 * Building blocks for the CRD schemas. Every helper returns a TypeBox schema that is
 * also a valid Kubernetes *structural* schema (no `const`, no `patternProperties`,
 * no `$ref`), so the same object yields the TypeScript type, the CRD openAPIV3Schema
 * and the runtime validator.
 */
import Type from 'typebox';
import type { TSchema, TUnsafe } from 'typebox';

/** A CEL rule for `x-kubernetes-validations`. */
export interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** A string restricted to `values`; emitted as `enum` (CRDs have no `const`). */
export function StringEnum<const V extends readonly string[]>(values: V, options: Record<string, unknown> = {}): TUnsafe<V[number]> {
  return Type.Unsafe<V[number]>({ type: 'string', enum: [...values], ...options });
}

/** A map of string to `T`, emitted as `additionalProperties` (CRDs reject `patternProperties`). */
export function StringMap<T extends TSchema>(value: T, options: Record<string, unknown> = {}): TUnsafe<Record<string, Type.Static<T>>> {
  return Type.Unsafe<Record<string, Type.Static<T>>>({ type: 'object', additionalProperties: value, ...options });
}

/** The Kubernetes quantity grammar (k8s.io/apimachinery resource.Quantity), unsigned. */
export const QUANTITY_PATTERN = '^(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[mkMGTPE])?$';

/**
 * A resource quantity such as `2`, `500m` or `16Gi`, as an integer or a string; positive
 * unless `allowZero` (quota limits, where 0 forbids). Negative values never match.
 */
export function Quantity(description: string, { allowZero = false } = {}): TUnsafe<string | number> {
  return Type.Unsafe<string | number>({
    description,
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    minimum: allowZero ? 0 : 1,
    pattern: QUANTITY_PATTERN,
    ...(allowZero
      ? {}
      : {
          'x-kubernetes-validations': [
            { rule: "isQuantity(string(self)) && quantity(string(self)).isGreaterThan(quantity('0'))", message: 'must be a positive quantity such as 2, 500m or 16Gi' },
          ],
        }),
  });
}

/** Durations as people write them: `90m`, `8h`, `1h30m`, `2d`. */
export const DURATION_PATTERN = '^([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$';

/** A non-empty duration string (`8h`, `30m`, `1h30m`, `2d`). */
export function Duration(description: string): TUnsafe<string> {
  return Type.Unsafe<string>({ type: 'string', description, pattern: DURATION_PATTERN, minLength: 2, maxLength: 20 });
}

/** An RFC 3339 instant; CEL sees it as a timestamp. */
export function DateTime(description: string): TUnsafe<string> {
  return Type.Unsafe<string>({ type: 'string', format: 'date-time', description });
}

/** A POSIX login name as LDAP and NFS accept it. */
export const USERNAME_PATTERN = '^[a-z_][a-z0-9_.-]{0,31}$';
/** A POSIX group name. */
export const GROUPNAME_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$';
/** A DNS-1123 label (names of profiles, flavours, DatasetMounts). */
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** An absolute path without `.`/`..` segments, `//`, or a trailing slash. */
export const ABSOLUTE_PATH_PATTERN = '^(/[A-Za-z0-9_@+=,.~-]+)+$|^/$';

/** CEL rule: a path has no `.` or `..` segment (the pattern alone admits `/a/../b`). */
export function noDotSegments(field: string): CelRule {
  return {
    rule: "!self.split('/').exists(s, s == '..' || s == '.')",
    message: `${field} must not contain '.' or '..' segments; give the real absolute path`,
  };
}

/** An absolute path field with the `..` rule attached. */
export function AbsolutePath(field: string, description: string): TUnsafe<string> {
  return Type.Unsafe<string>({
    type: 'string',
    description,
    pattern: ABSOLUTE_PATH_PATTERN,
    maxLength: 4096,
    'x-kubernetes-validations': [noDotSegments(field)],
  });
}

/** A list of names that behaves as a set (`x-kubernetes-list-type: set`). */
export function NameSet(pattern: string, maxItems: number, description: string): TUnsafe<string[]> {
  return Type.Unsafe<string[]>({
    type: 'array',
    description,
    maxItems,
    'x-kubernetes-list-type': 'set',
    items: { type: 'string', pattern, maxLength: 64 },
  });
}

/**
 * A condition as the Kubernetes API conventions define it (metav1.Condition).
 */
export const Condition = Type.Object({
  type: Type.String({ description: 'Type of the condition, e.g. Ready.', maxLength: 316, pattern: '^[A-Za-z][A-Za-z0-9]*$' }),
  status: StringEnum(['True', 'False', 'Unknown'] as const),
  reason: Type.String({ description: 'Machine-readable PascalCase reason.', maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' }),
  message: Type.String({ description: 'Human-readable details a portal can show.', maxLength: 32768 }),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  lastTransitionTime: DateTime('When status last changed.'),
});
export type Condition = Type.Static<typeof Condition>;

/** `status.conditions` keyed by type. */
export const Conditions = Type.Unsafe<Condition[]>({
  type: 'array',
  description: 'Conditions following the Kubernetes API conventions; Ready summarises.',
  maxItems: 16,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
  items: Condition,
});
