// SPDX-License-Identifier: Apache-2.0
/** LDAP search filters built from untrusted values (RFC 4515 escaping). */

/**
 * Escapes `value` for use as an assertion value inside a filter: `*`, `(`, `)`, `\` and NUL
 * become `\2a`, `\28`, `\29`, `\5c`, `\00` (RFC 4515 §3). Other characters, including UTF-8,
 * pass through unchanged, as the RFC allows.
 */
export function escapeFilterValue(value: string): string {
  return value.replace(/[*()\\\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Replaces each `{name}` placeholder of `template` with the escaped value of `values[name]`.
 * Placeholders without a value are left as they are, so a typo shows up as a filter that
 * matches nothing rather than as a silently broadened one.
 */
export function fillFilter(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{([A-Za-z]+)\}/g, (whole, name: string) => {
    const value = values[name];
    return value === undefined ? whole : escapeFilterValue(value);
  });
}

/** `(attribute=value)` with `value` escaped. `attribute` must be a trusted name. */
export function equalityFilter(attribute: string, value: string): string {
  return `(${attribute}=${escapeFilterValue(value)})`;
}

/** The conjunction of already built filters; a single filter is returned unchanged. */
export function andFilter(filters: readonly string[]): string {
  return filters.length === 1 ? filters[0]! : `(&${filters.join('')})`;
}

/**
 * The disjunction of already built filters; a single filter is returned unchanged.
 * @throws Error when `filters` is empty: an empty `(|)` is "false" in RFC 4526 but not every
 * server accepts it, so callers skip the search instead.
 */
export function orFilter(filters: readonly string[]): string {
  if (filters.length === 0) throw new Error('orFilter: no filters');
  return filters.length === 1 ? filters[0]! : `(|${filters.join('')})`;
}
