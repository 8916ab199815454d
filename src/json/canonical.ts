// SPDX-License-Identifier: Apache-2.0
/**
 * Canonical JSON (pure): the text `JSON.stringify` gives for `value` with the members of
 * every object sorted by key and `undefined` members dropped, so equal values give equal
 * text. It is hashed into pod annotations and compared on every reconcile, so it is written
 * out directly rather than through a replacer that copies each object (several times
 * faster), with exactly the same output: `toJSON` is honoured (dates), `undefined`,
 * functions and symbols are dropped from objects and are `null` in arrays, non-finite
 * numbers are `null`, and keys that are array indices come first in ascending numeric
 * order, as they would in an object rebuilt with sorted keys.
 */

/** Canonical JSON of `value`; `undefined` for a value JSON.stringify gives no text for (undefined, a function, a symbol). */
export function canonicalJson(value: unknown): string {
  return write(value) as string;
}

const INDEX = /^(?:0|[1-9]\d*)$/;
/** Only a key that starts with a digit can be an index: the test most keys pass without a regular expression. */
const isIndex = (k: string): boolean => {
  const first = k.charCodeAt(0);
  return first >= 48 && first <= 57 && INDEX.test(k) && Number(k) < 4294967295;
};

/** Quoted keys, kept: the same few hundred keys recur in every object hashed. */
const QUOTED = new Map<string, string>();
const QUOTED_MAX = 4096;

function quoted(key: string): string {
  let text = QUOTED.get(key);
  if (text === undefined) {
    text = JSON.stringify(key);
    if (QUOTED.size >= QUOTED_MAX) QUOTED.clear();
    QUOTED.set(key, text);
  }
  return text;
}

/** Keys in the order of an object built by inserting them sorted: array indices first (numerically), then the rest sorted. */
function orderedKeys(obj: object): string[] {
  const keys = Object.keys(obj).sort();
  if (!keys.some(isIndex)) return keys;
  const indices = keys.filter(isIndex).sort((a, b) => Number(a) - Number(b));
  return [...indices, ...keys.filter((k) => !isIndex(k))];
}

function write(input: unknown): string | undefined {
  let value = input;
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') value = (value as { toJSON(): unknown }).toJSON();
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      return JSON.stringify(value);
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + (write(value[i]) ?? 'null');
    return out + ']';
  }
  if (value instanceof Number || value instanceof String || value instanceof Boolean) return JSON.stringify(value);
  let out = '{';
  let first = true;
  for (const key of orderedKeys(value as object)) {
    const text = write((value as Record<string, unknown>)[key]);
    if (text === undefined) continue;
    out += (first ? '' : ',') + quoted(key) + ':' + text;
    first = false;
  }
  return out + '}';
}
