// SPDX-License-Identifier: Apache-2.0
/**
 * Strict variants of configuration schemas: every object that lists its `properties`
 * refuses other keys (unless it says otherwise), so a misspelt key (`gpuFlavors`) is an
 * error that names it instead of a setting silently ignored. Used by the configuration
 * loader and by the Helm chart's values schema, so both refuse the same keys.
 */

type Json = Record<string, unknown>;

/**
 * A plain JSON copy of `schema` whose objects with `properties` have
 * `additionalProperties: false` unless they set `additionalProperties` or
 * `patternProperties` themselves. With `optionalDefaults`, keys that have a `default`
 * are no longer required (for values that a later step fills in).
 */
export function closeObjects(schema: unknown, options: { optionalDefaults?: boolean } = {}): Json {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node !== 'object' || node === null) return node;
    const out: Json = {};
    for (const [k, v] of Object.entries(node)) out[k] = walk(v);
    const props = out.properties as Record<string, Json> | undefined;
    if (props && out.type === 'object') {
      if (!('additionalProperties' in out) && !('patternProperties' in out)) out.additionalProperties = false;
      if (options.optionalDefaults && Array.isArray(out.required)) {
        const required = (out.required as string[]).filter((k) => !(props[k] && 'default' in props[k]));
        if (required.length > 0) out.required = required;
        else delete out.required;
      }
    }
    return out;
  };
  return walk(JSON.parse(JSON.stringify(schema))) as Json;
}
