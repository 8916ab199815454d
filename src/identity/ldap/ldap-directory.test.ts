// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { DEFAULT_USER_FILTER } from '../../config/ldap.ts';
import { DirectoryUnavailableError } from '../directory.ts';
import { InMemoryLdap } from './in-memory-ldap.ts';
import { LdapDirectory } from './ldap-directory.ts';
import type { LdapDirectorySettings } from './ldap-directory.ts';

const people = 'ou=people,dc=t';
const groups = 'ou=groups,dc=t';
const settings: LdapDirectorySettings = { userBase: people, userFilter: DEFAULT_USER_FILTER, groupBase: groups, nestedGroupDepth: 3, cacheTtlSeconds: 300, negativeCacheTtlSeconds: 60 };

function user(name: string, uid: number, extra: Record<string, string | string[]> = {}): [string, Record<string, string | string[]>] {
  return [`uid=${name},${people}`, { objectClass: ['inetOrgPerson', 'posixAccount'], uid: name, uidNumber: String(uid), gidNumber: String(uid), homeDirectory: `/home/${name}`, ...extra }];
}

function directory(): InMemoryLdap {
  const ldap = new InMemoryLdap();
  for (const [dn, attrs] of [user('alice', 20001), user('bob', 20002), user('frank', 20006), user('ambi', 1), user('ambi2', 2, { uid: ['ambi2', 'ambi'] }), user('broken', 3, { uidNumber: 'x' })]) ldap.add(dn, attrs);
  ldap.add(`uid=eve,${people}`, { objectClass: 'inetOrgPerson', uid: 'eve' });
  ldap.add(`cn=alice,${groups}`, { objectClass: 'posixGroup', cn: 'alice', gidNumber: '20001' });
  ldap.add(`cn=p1,${groups}`, { objectClass: 'posixGroup', cn: 'p1', gidNumber: '30001', memberUid: ['alice', 'bob'] });
  ldap.add(`cn=p1-alias,${groups}`, { objectClass: 'posixGroup', cn: 'p1-alias', gidNumber: '30001', memberUid: 'alice' });
  ldap.add(`cn=readers,${groups}`, { objectClass: 'groupOfNames', cn: 'readers', member: `uid=alice,${people}` });
  ldap.add(`cn=sub,${groups}`, { objectClass: 'groupOfNames', cn: 'sub', member: `uid=frank,${people}` });
  ldap.add(`cn=team,${groups}`, { objectClass: ['groupOfNames', 'extensibleObject'], cn: 'team', gidNumber: '30010', member: `cn=sub,${groups}` });
  ldap.add(`cn=elsewhere,ou=other,dc=t`, { objectClass: 'posixGroup', cn: 'elsewhere', gidNumber: '39999', memberUid: 'alice' });
  return ldap;
}

describe('LdapDirectory', () => {
  it('resolves a user with POSIX groups and all group names', async () => {
    const dir = new LdapDirectory(directory(), settings);
    expect(await dir.memberships('alice')).toEqual({
      dn: `uid=alice,${people}`,
      identity: { user: 'alice', uid: 20001, gid: 20001, home: '/home/alice', groups: [{ name: 'p1', gid: 30001 }] },
      groupNames: ['alice', 'p1', 'p1-alias', 'readers'],
    });
  });

  it('marks an identity whose uidNumber another account shares as invalid, naming the other entry', async () => {
    const ldap = directory();
    ldap.add(`uid=mallory,${people}`, { objectClass: ['inetOrgPerson', 'posixAccount'], uid: 'mallory', uidNumber: '20002', gidNumber: '20099' });
    const dir = new LdapDirectory(ldap, settings);
    expect((await dir.lookupUser('bob'))?.invalid).toBe(`uidNumber 20002 is also the uidNumber of uid=mallory,${people}`);
    expect((await dir.lookupUser('mallory'))?.invalid).toBe(`uidNumber 20002 is also the uidNumber of uid=bob,${people}`);
    expect((await dir.lookupUser('alice'))?.invalid).toBeUndefined();
  });

  it('follows nesting up to nestedGroupDepth', async () => {
    expect(await new LdapDirectory(directory(), settings).lookupUser('frank')).toMatchObject({ groups: [{ name: 'team', gid: 30010 }] });
    expect(await new LdapDirectory(directory(), settings).groupNames('frank')).toEqual(['sub', 'team']);
    expect(await new LdapDirectory(directory(), { ...settings, nestedGroupDepth: 0 }).groupNames('frank')).toEqual(['sub']);
  });

  it('answers undefined for unknown users, accounts without POSIX attributes and injection attempts', async () => {
    const dir = new LdapDirectory(directory(), settings);
    for (const name of ['nobody', 'eve', '*', 'alice)(uid=*', '']) expect(await dir.lookupUser(name)).toBeUndefined();
  });

  it('returns the stored username when the query differs in case', async () => {
    expect((await new LdapDirectory(directory(), settings).lookupUser('ALICE'))?.user).toBe('alice');
  });

  it('refuses ambiguous users and invalid ids as unavailable, naming the cause', async () => {
    const dir = new LdapDirectory(directory(), settings);
    await expect(dir.lookupUser('ambi')).rejects.toThrow(/several entries .* match/);
    await expect(dir.lookupUser('broken')).rejects.toThrow(DirectoryUnavailableError);
    await expect(dir.lookupUser('broken')).rejects.toThrow(/invalid uidNumber "x"/);
  });

  it('caches answers, including "not found", and forgets them on invalidate', async () => {
    const ldap = directory();
    const dir = new LdapDirectory(ldap, settings);
    await dir.lookupUser('alice');
    await dir.groupNames('alice');
    await dir.lookupUser('nobody');
    await dir.lookupUser('nobody');
    const served = ldap.requests;
    dir.invalidate('alice');
    await dir.lookupUser('alice');
    expect(ldap.requests).toBeGreaterThan(served);
  });

  it('hands out copies that callers cannot use to change the cache', async () => {
    const dir = new LdapDirectory(directory(), settings);
    (await dir.lookupUser('alice'))!.groups.push({ name: 'root', gid: 0 });
    expect((await dir.lookupUser('alice'))!.groups).toEqual([{ name: 'p1', gid: 30001 }]);
  });

  it('passes DirectoryUnavailableError through and does not cache it', async () => {
    const ldap = directory();
    const dir = new LdapDirectory(ldap, settings);
    ldap.failure = new Error('connection refused');
    await expect(dir.lookupUser('alice')).rejects.toThrow(DirectoryUnavailableError);
    ldap.failure = undefined;
    expect((await dir.lookupUser('alice'))?.uid).toBe(20001);
  });
});
