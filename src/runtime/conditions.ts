// SPDX-License-Identifier: Apache-2.0
import { jsonEqual } from '../json/equal.ts';

/** `status` of a condition. */
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** A status condition as in the Kubernetes API conventions (`metav1.Condition`). */
export interface Condition {
  readonly type: string;
  readonly status: ConditionStatus;
  /** Stable PascalCase, machine-readable. */
  readonly reason: string;
  /** For humans; at most {@link MAX_CONDITION_MESSAGE} characters. */
  readonly message: string;
  /** The `metadata.generation` this condition was computed from. */
  readonly observedGeneration?: number;
  /** RFC 3339, second precision; when `status` last changed. */
  readonly lastTransitionTime: string;
}

/** What a controller decides about one condition; the time is filled in by {@link setCondition}. */
export interface ConditionInput {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message?: string;
  readonly observedGeneration?: number;
}

/** Longest message kept; longer ones are cut and end with `…`. */
export const MAX_CONDITION_MESSAGE = 1024;

const TYPE_PATTERN = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const REASON_PATTERN = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

/** `ms` since the epoch as RFC 3339 with second precision (the `metav1.Time` wire format). */
export function formatTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** `message` cut to `max` characters (never inside a surrogate pair), ending with `…` when cut. */
export function truncateMessage(message: string, max = MAX_CONDITION_MESSAGE): string {
  if (message.length <= max) return message;
  let end = max - 1;
  const code = message.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${message.slice(0, end)}…`;
}

/**
 * Returns `conditions` with `input` set, without mutating the argument.
 *
 * Guarantees: `lastTransitionTime` is `now` when the condition is new or its `status` changed, and kept
 * otherwise (a new reason or message alone is not a transition); the condition keeps its position, new ones are
 * appended; the message is truncated; calling it again with the same input yields an equal array.
 * Errors: throws `RangeError` when `type` or `reason` do not match the `metav1.Condition` validation patterns
 * (the API server would reject the status write anyway).
 */
export function setCondition(conditions: readonly Condition[] | undefined, input: ConditionInput, now: number): Condition[] {
  if (!TYPE_PATTERN.test(input.type) || input.type.length > 316) throw new RangeError(`Invalid condition type "${input.type}"`);
  if (!REASON_PATTERN.test(input.reason) || input.reason.length > 1024) throw new RangeError(`Invalid reason "${input.reason}"`);
  const current = conditions ?? [];
  const existing = current.find((c) => c.type === input.type);
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: truncateMessage(input.message ?? ''),
    ...(input.observedGeneration === undefined ? {} : { observedGeneration: input.observedGeneration }),
    lastTransitionTime: existing?.status === input.status ? existing.lastTransitionTime : formatTime(now),
  };
  return existing ? current.map((c) => (c === existing ? next : c)) : [...current, next];
}

/** The condition of `type`, if present. */
export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** True when the condition of `type` is present with status `True`. */
export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/**
 * Semantic equality of two status objects: key order and `undefined` members do not matter, and every
 * `conditions` array is compared as a set keyed by `type`. Use it to skip a status write that would change nothing.
 */
export function statusEqual(a: unknown, b: unknown): boolean {
  return jsonEqual(normalise(a), normalise(b));
}

function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] = key === 'conditions' && Array.isArray(child) ? sortByType(child).map(normalise) : normalise(child);
  }
  return out;
}

function sortByType(items: readonly unknown[]): unknown[] {
  const typeOf = (item: unknown): string => String((item as { type?: unknown } | null)?.type ?? '');
  return [...items].sort((x, y) => (typeOf(x) < typeOf(y) ? -1 : typeOf(x) > typeOf(y) ? 1 : 0));
}
