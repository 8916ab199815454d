// SPDX-License-Identifier: Apache-2.0
/** The LDAP directory adapter: users from `posixAccount` entries, groups with nesting. */
import type { LdapConfig } from '../../config/ldap.ts';
import { DirectoryUnavailableError } from '../directory.ts';
import type { Directory, PosixGroup, PosixIdentity } from '../directory.ts';
import { TtlCache } from '../ttl-cache.ts';
import { andFilter, equalityFilter, fillFilter, orFilter } from './filter.ts';
import { expandMemberships } from './group-expansion.ts';
import type { LdapEntry, LdapReader, LdapRunner } from './ldap-connection.ts';

/** Object classes that count as groups; both may carry `gidNumber` (rfc2307bis style). */
export const GROUP_CLASSES_FILTER = '(|(objectClass=posixGroup)(objectClass=groupOfNames))';
const GROUP_ATTRIBUTES = ['cn', 'gidNumber'];
const USER_ATTRIBUTES = ['uid', 'uidNumber', 'gidNumber', 'homeDirectory'];
const MAX_NAME_LENGTH = 256;
const FILTER_CHUNK = 100;

/** The parts of {@link LdapConfig} the directory adapter uses. */
export type LdapDirectorySettings = Pick<LdapConfig, 'userBase' | 'userFilter' | 'groupBase' | 'nestedGroupDepth' | 'cacheTtlSeconds' | 'negativeCacheTtlSeconds'>;

/** A group found in the directory; `gid` only for groups with a valid `gidNumber`. */
export interface DirectoryGroup {
  dn: string;
  name: string;
  gid?: number;
}

/** Everything the directory says about one user. */
export interface UserMemberships {
  /** The POSIX view: only groups with a gid, primary gid not repeated, sorted by gid. */
  identity: PosixIdentity;
  /** DN of the user entry. */
  dn: string;
  /**
   * Names (`cn`) of every group of the user, sorted: POSIX or not, direct, nested, and the group
   * whose gid is the user's primary gid. Use these to check group names such as a dataset's
   * read group or a proposal group.
   */
  groupNames: string[];
}

/** Reads group names without the POSIX view; implemented by {@link LdapDirectory}. */
export interface GroupNameSource {
  /** Every group name of `user` (see {@link UserMemberships.groupNames}); `undefined` for an unknown user. */
  groupNames(user: string): Promise<string[] | undefined>;
}

function parseId(entry: LdapEntry, attribute: string): number | undefined {
  const raw = entry.first(attribute);
  if (raw === undefined) return undefined;
  const value = /^\d{1,10}$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (value >= 0 && value <= 0xffff_ffff) return value;
  throw new DirectoryUnavailableError(`LDAP entry ${entry.dn} has an invalid ${attribute} "${raw}"`);
}

function toGroup(entry: LdapEntry): DirectoryGroup {
  const raw = entry.first('gidNumber')?.trim();
  const gid = raw !== undefined && /^\d{1,10}$/.test(raw) && Number(raw) <= 0xffff_ffff ? Number(raw) : undefined;
  return { dn: entry.dn, name: entry.first('cn') ?? entry.dn, ...(gid === undefined ? {} : { gid }) };
}

function posixGroups(groups: readonly DirectoryGroup[], primaryGid: number): PosixGroup[] {
  const byGid = new Map<number, string>();
  for (const g of groups) {
    if (g.gid === undefined || g.gid === primaryGid) continue;
    const known = byGid.get(g.gid);
    if (known === undefined || g.name < known) byGid.set(g.gid, g.name);
  }
  return [...byGid].map(([gid, name]) => ({ name, gid })).sort((a, b) => a.gid - b.gid);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * {@link Directory} over LDAP.
 *
 * A user is the one entry under `userBase` matching `userFilter`; it must have `uidNumber` and
 * `gidNumber` (else the user counts as not found). The user's groups are the posixGroup and
 * groupOfNames entries under `groupBase` that name the user (`memberUid=<uid>`, `member=<dn>`)
 * or carry the user's primary gid, plus, for up to `nestedGroupDepth` levels, the groups whose
 * `member` names one of those groups. Only groups with a `gidNumber` enter
 * {@link PosixIdentity.groups}; every group's name is in {@link UserMemberships.groupNames}.
 *
 * Guarantees: answers are cached per requested name (`cacheTtlSeconds`, and
 * `negativeCacheTtlSeconds` for unknown users), concurrent lookups of one name share one
 * directory query, failures are not cached; returned objects are copies.
 * A `uidNumber` that another `posixAccount` under `userBase` shares makes the identity
 * {@link PosixIdentity.invalid} (callers refuse it).
 * Caveats: ids are reported as stored, uid 0 included; refusing low ids is the caller's policy
 * (`directory.minId`). More groups than NFS AUTH_SYS carries (16) are all returned.
 */
export class LdapDirectory implements Directory, GroupNameSource {
  private readonly connector: LdapRunner;
  private readonly settings: LdapDirectorySettings;
  private readonly cache: TtlCache<string, UserMemberships>;

  constructor(connector: LdapRunner, settings: LdapDirectorySettings, now?: () => number) {
    this.connector = connector;
    this.settings = settings;
    this.cache = new TtlCache({ ttlMs: settings.cacheTtlSeconds * 1000, negativeTtlMs: settings.negativeCacheTtlSeconds * 1000, now });
  }

  /** {@inheritDoc Directory.lookupUser} */
  async lookupUser(name: string): Promise<PosixIdentity | undefined> {
    return (await this.memberships(name))?.identity;
  }

  /** {@inheritDoc GroupNameSource.groupNames} */
  async groupNames(name: string): Promise<string[] | undefined> {
    return (await this.memberships(name))?.groupNames;
  }

  /**
   * The POSIX identity and all group names of `name`; `undefined` for an unknown user.
   * @throws DirectoryUnavailableError when the directory cannot answer within `timeoutMs`, or
   * its data is unusable (several entries match, an invalid `uidNumber`).
   */
  async memberships(name: string): Promise<UserMemberships | undefined> {
    const found = await this.cache.get(name, () => this.fetch(name));
    return found === undefined ? undefined : structuredClone(found);
  }

  /** Forgets the cached answer for `name`, or all answers (e.g. before creating a session). */
  invalidate(name?: string): void {
    this.cache.invalidate(name);
  }

  private async fetch(name: string): Promise<UserMemberships | undefined> {
    if (name === '' || name.length > MAX_NAME_LENGTH) return undefined;
    return this.connector.run(`lookup of user "${name}"`, async (ldap) => {
      const entry = await this.findUser(ldap, name);
      if (!entry) return undefined;
      const uid = parseId(entry, 'uidNumber');
      const gid = parseId(entry, 'gidNumber');
      if (uid === undefined || gid === undefined) return undefined;
      const uids = entry.values('uid');
      const user = uids.find((u) => u.toLowerCase() === name.toLowerCase()) ?? uids[0] ?? name;
      const direct = await this.directGroups(ldap, user, entry.dn, gid);
      const groups = await expandMemberships(direct, (frontier) => this.parents(ldap, frontier), this.settings.nestedGroupDepth);
      const home = entry.first('homeDirectory');
      const invalid = await this.sharedUid(ldap, uid, entry.dn);
      return {
        identity: { user, uid, gid, ...(home ? { home } : {}), groups: posixGroups(groups, gid), ...(invalid ? { invalid } : {}) },
        dn: entry.dn,
        groupNames: [...new Set(groups.map((g) => g.name))].sort(),
      };
    });
  }

  private async findUser(ldap: LdapReader, name: string): Promise<LdapEntry | undefined> {
    const filter = fillFilter(this.settings.userFilter, { user: name });
    const found = await ldap.search({ base: this.settings.userBase, scope: 'sub', filter, attributes: USER_ATTRIBUTES, sizeLimit: 2 });
    if (found.length > 1) throw new DirectoryUnavailableError(`LDAP lookup of user "${name}": several entries under ${this.settings.userBase} match ${filter}; userFilter must match one user`);
    return found[0];
  }

  /**
   * Why `uid` cannot be trusted when another account under `userBase` has the same
   * `uidNumber` (its files would be this user's files); `undefined` when it is unique.
   */
  private async sharedUid(ldap: LdapReader, uid: number, dn: string): Promise<string | undefined> {
    const filter = andFilter(['(objectClass=posixAccount)', equalityFilter('uidNumber', String(uid))]);
    const found = await ldap.search({ base: this.settings.userBase, scope: 'sub', filter, attributes: ['uid'], sizeLimit: 3 });
    const others = found.filter((e) => e.dn.toLowerCase() !== dn.toLowerCase());
    if (others.length === 0) return undefined;
    return `uidNumber ${uid} is also the uidNumber of ${others.map((e) => e.dn).join(', ')}`;
  }

  private async directGroups(ldap: LdapReader, user: string, dn: string, gid: number): Promise<DirectoryGroup[]> {
    const naming = orFilter([equalityFilter('memberUid', user), equalityFilter('member', dn), equalityFilter('gidNumber', String(gid))]);
    const found = await ldap.search({ base: this.settings.groupBase, scope: 'sub', filter: andFilter([GROUP_CLASSES_FILTER, naming]), attributes: GROUP_ATTRIBUTES, paged: true });
    return found.map(toGroup);
  }

  private async parents(ldap: LdapReader, groups: DirectoryGroup[]): Promise<DirectoryGroup[]> {
    const results = await Promise.all(chunks(groups, FILTER_CHUNK).map((chunk) => {
      const filter = andFilter([GROUP_CLASSES_FILTER, orFilter(chunk.map((g) => equalityFilter('member', g.dn)))]);
      return ldap.search({ base: this.settings.groupBase, scope: 'sub', filter, attributes: GROUP_ATTRIBUTES, paged: true });
    }));
    return results.flat().map(toGroup);
  }
}
