// SPDX-License-Identifier: Apache-2.0
/** An in-memory stand-in for a directory server, for unit tests of the LDAP adapters. */
import { AndFilter, EqualityFilter, FilterParser, NotFilter, OrFilter, PresenceFilter } from 'ldapts';
import type { Filter } from 'ldapts';
import { DirectoryUnavailableError } from '../directory.ts';
import { dnKey } from './group-expansion.ts';
import { LdapEntry } from './ldap-connection.ts';
import type { LdapReader, LdapRunner, LdapSearch } from './ldap-connection.ts';

const DN_ATTRIBUTES = new Set(['member']);

function isUnder(dn: string, base: string, scope: LdapSearch['scope']): boolean {
  const key = dnKey(dn);
  const suffix = dnKey(base);
  if (scope === 'base') return key === suffix;
  if (!key.endsWith(`,${suffix}`)) return scope === 'sub' && key === suffix;
  return scope === 'sub' || !key.slice(0, -suffix.length - 1).includes(',');
}

function matches(filter: Filter, entry: LdapEntry): boolean {
  if (filter instanceof AndFilter) return filter.filters.every((f) => matches(f, entry));
  if (filter instanceof OrFilter) return filter.filters.some((f) => matches(f, entry));
  if (filter instanceof NotFilter) return !matches(filter.filter, entry);
  if (filter instanceof PresenceFilter) return entry.values(filter.attribute).length > 0;
  if (filter instanceof EqualityFilter) {
    const norm = DN_ATTRIBUTES.has(filter.attribute.toLowerCase()) ? dnKey : (v: string) => v.toLowerCase();
    const want = norm(filter.value.toString());
    return entry.values(filter.attribute).some((v) => norm(v) === want);
  }
  throw new Error(`in-memory LDAP: unsupported filter ${filter.toString()}`);
}

/**
 * Answers searches from a list of entries with the adapters' filter shapes (and, or, not,
 * equality, presence; `member` compared as DNs, other values case-insensitively).
 * Caveats: no ACLs, schema or paging; `sizeLimit` truncates silently like a server would.
 */
export class InMemoryLdap implements LdapRunner {
  private readonly entries: LdapEntry[] = [];
  /** Number of searches and reads served. */
  requests = 0;
  /** When set, every operation fails with it, as an unreachable server would. */
  failure?: Error;

  /** Adds an entry; attribute values may be a single string. */
  add(dn: string, attributes: Record<string, string | string[]>): this {
    this.entries.push(new LdapEntry(dn, Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]))));
    return this;
  }

  /** Runs `work` against the entries; a set {@link failure} becomes a DirectoryUnavailableError. */
  async run<T>(purpose: string, work: (reader: LdapReader) => Promise<T>): Promise<T> {
    if (this.failure) throw new DirectoryUnavailableError(`LDAP ${purpose}: ${this.failure.message}`, { cause: this.failure });
    return work({
      search: async (s) => {
        this.requests++;
        const filter = FilterParser.parseString(s.filter);
        const found = this.entries.filter((e) => isUnder(e.dn, s.base, s.scope) && matches(filter, e));
        return s.sizeLimit ? found.slice(0, s.sizeLimit) : found;
      },
      read: async (dn) => {
        this.requests++;
        return this.entries.find((e) => dnKey(e.dn) === dnKey(dn));
      },
    });
  }
}
