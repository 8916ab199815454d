// SPDX-License-Identifier: Apache-2.0
/** The LDAP proposal adapter: one directory group per proposal. */
import type { LdapConfig } from '../../config/ldap.ts';
import { DirectoryUnavailableError } from '../directory.ts';
import type { ProposalDirectory, ProposalInfo } from '../proposals.ts';
import { TtlCache } from '../ttl-cache.ts';
import { andFilter, equalityFilter, orFilter } from './filter.ts';
import { formatInstant, parseInstant } from './generalized-time.ts';
import { dnKey, expandMembers } from './group-expansion.ts';
import type { MemberEntry, NestedGroup } from './group-expansion.ts';
import type { LdapEntry, LdapReader, LdapRunner } from './ldap-connection.ts';
import { GROUP_CLASSES_FILTER } from './ldap-directory.ts';

const MEMBER_ATTRIBUTES = ['objectClass', 'uid', 'cn', 'gidNumber', 'memberUid', 'member'];
const GROUP_CLASSES = new Set(['posixgroup', 'groupofnames']);
const MAX_ID_LENGTH = 128;
const READ_CHUNK = 50;

/** The parts of {@link LdapConfig} the proposal adapter uses. */
export type LdapProposalSettings = Pick<LdapConfig, 'userBase' | 'groupBase' | 'nestedGroupDepth' | 'cacheTtlSeconds' | 'negativeCacheTtlSeconds' | 'proposals'>;

interface ProposalGroup extends NestedGroup {
  gid?: number;
}

function isUnder(dn: string, base: string): boolean {
  const key = dnKey(dn);
  const suffix = dnKey(base);
  return key === suffix || key.endsWith(`,${suffix}`);
}

function toProposalGroup(entry: LdapEntry): ProposalGroup {
  const raw = entry.first('gidNumber')?.trim();
  const gid = raw !== undefined && /^\d{1,10}$/.test(raw) ? Number(raw) : undefined;
  return { dn: entry.dn, memberUids: entry.values('memberUid'), memberDns: entry.values('member'), ...(gid === undefined ? {} : { gid }) };
}

/**
 * {@link ProposalDirectory} over LDAP. Proposal `id` is the group under `groupBase` whose `cn`
 * is `proposals.groupPattern` with `{proposal}` replaced by `id` (posixGroup or groupOfNames).
 *
 * Members are the usernames in its `memberUid`, the users (entries under `userBase`, by their
 * `uid`) named by its `member` DNs, the members of groups (under `groupBase`) named by its
 * `member` DNs for up to `nestedGroupDepth` levels, and the posixAccounts whose primary
 * `gidNumber` is the gid of one of those groups: the rules `LdapDirectory` applies upwards, so
 * for a user found by the default `userFilter`, `members` includes the user exactly when the
 * user's `groupNames` include the proposal group.
 * Beamtime and embargo come from the optional attributes in `proposals`, in Generalized Time or
 * RFC 3339, and are returned as RFC 3339 UTC; a beamtime needs both ends.
 *
 * Guarantees: answers are cached like the directory's; an unreadable date is an error (never
 * silently dropped, since an embargo must not vanish).
 */
export class LdapProposals implements ProposalDirectory {
  private readonly connector: LdapRunner;
  private readonly settings: LdapProposalSettings;
  private readonly cache: TtlCache<string, ProposalInfo>;

  constructor(connector: LdapRunner, settings: LdapProposalSettings, now?: () => number) {
    this.connector = connector;
    this.settings = settings;
    this.cache = new TtlCache({ ttlMs: settings.cacheTtlSeconds * 1000, negativeTtlMs: settings.negativeCacheTtlSeconds * 1000, now });
  }

  /**
   * {@inheritDoc ProposalDirectory.getProposal}
   * @throws DirectoryUnavailableError when the directory cannot answer within `timeoutMs`, when
   * several groups match, or when a date attribute cannot be read.
   */
  async getProposal(id: string): Promise<ProposalInfo | undefined> {
    const found = await this.cache.get(id, () => this.fetch(id));
    return found === undefined ? undefined : structuredClone(found);
  }

  /** Forgets the cached answer for `id`, or all answers. */
  invalidate(id?: string): void {
    this.cache.invalidate(id);
  }

  private dateAttributes(): string[] {
    const p = this.settings.proposals;
    return [p.beamtimeStartAttribute, p.beamtimeEndAttribute, p.embargoAttribute].filter((a): a is string => a !== undefined);
  }

  private async fetch(id: string): Promise<ProposalInfo | undefined> {
    if (id === '' || id.length > MAX_ID_LENGTH) return undefined;
    const cn = this.settings.proposals.groupPattern.replaceAll('{proposal}', id);
    return this.connector.run(`lookup of proposal "${id}"`, async (ldap) => {
      const filter = andFilter([GROUP_CLASSES_FILTER, equalityFilter('cn', cn)]);
      const found = await ldap.search({ base: this.settings.groupBase, scope: 'sub', filter, attributes: [...MEMBER_ATTRIBUTES, ...this.dateAttributes()], sizeLimit: 2 });
      if (found.length > 1) throw new DirectoryUnavailableError(`LDAP lookup of proposal "${id}": several groups under ${this.settings.groupBase} match ${filter}`);
      const entry = found[0];
      if (!entry) return undefined;
      const { users, groups } = await expandMembers(toProposalGroup(entry), (dns) => this.resolve(ldap, dns), this.settings.nestedGroupDepth);
      const primary = await this.primaryMembers(ldap, groups.flatMap((g) => (g.gid === undefined ? [] : [g.gid])));
      return { id, members: [...new Set([...users, ...primary])].sort(), ...this.dates(entry) };
    });
  }

  private async resolve(ldap: LdapReader, dns: string[]): Promise<MemberEntry<ProposalGroup>[]> {
    const out: MemberEntry<ProposalGroup>[] = [];
    for (let i = 0; i < dns.length; i += READ_CHUNK) {
      const entries = await Promise.all(dns.slice(i, i + READ_CHUNK).map((dn) => ldap.read(dn, MEMBER_ATTRIBUTES)));
      for (const e of entries) {
        if (!e) continue;
        const isGroup = e.values('objectClass').some((c) => GROUP_CLASSES.has(c.toLowerCase()));
        const uid = e.first('uid');
        if (isGroup && isUnder(e.dn, this.settings.groupBase)) out.push({ kind: 'group', group: toProposalGroup(e) });
        else if (!isGroup && uid !== undefined && isUnder(e.dn, this.settings.userBase)) out.push({ kind: 'user', dn: e.dn, name: uid });
      }
    }
    return out;
  }

  private async primaryMembers(ldap: LdapReader, gids: number[]): Promise<string[]> {
    if (gids.length === 0) return [];
    const filter = andFilter(['(objectClass=posixAccount)', orFilter([...new Set(gids)].map((g) => equalityFilter('gidNumber', String(g))))]);
    const found = await ldap.search({ base: this.settings.userBase, scope: 'sub', filter, attributes: ['uid'], paged: true });
    return found.flatMap((e) => e.values('uid').slice(0, 1));
  }

  private dates(entry: LdapEntry): Pick<ProposalInfo, 'beamtime' | 'embargoUntil'> {
    const p = this.settings.proposals;
    const read = (attribute: string | undefined): string | undefined => {
      const raw = attribute === undefined ? undefined : entry.first(attribute);
      if (raw === undefined) return undefined;
      const ms = parseInstant(raw);
      if (ms === undefined) throw new DirectoryUnavailableError(`LDAP proposal group ${entry.dn} has an invalid ${attribute} "${raw}" (expected Generalized Time or RFC 3339)`);
      return formatInstant(ms);
    };
    const start = read(p.beamtimeStartAttribute);
    const end = read(p.beamtimeEndAttribute);
    const embargoUntil = read(p.embargoAttribute);
    return { ...(start && end ? { beamtime: { start, end } } : {}), ...(embargoUntil ? { embargoUntil } : {}) };
  }
}
