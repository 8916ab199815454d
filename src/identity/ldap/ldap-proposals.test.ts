// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { DirectoryUnavailableError } from '../directory.ts';
import { InMemoryLdap } from './in-memory-ldap.ts';
import { LdapProposals } from './ldap-proposals.ts';
import type { LdapProposalSettings } from './ldap-proposals.ts';

const people = 'ou=people,dc=t';
const groups = 'ou=groups,dc=t';
const settings: LdapProposalSettings = {
  userBase: people, groupBase: groups, nestedGroupDepth: 3, cacheTtlSeconds: 300, negativeCacheTtlSeconds: 60,
  proposals: { groupPattern: 'p{proposal}', beamtimeStartAttribute: 'btStart', beamtimeEndAttribute: 'btEnd', embargoAttribute: 'embargo' },
};

function directory(): InMemoryLdap {
  const ldap = new InMemoryLdap();
  for (const [name, gid] of [['alice', 20001], ['bob', 20002], ['frank', 20006], ['pia', 30001]] as const) {
    ldap.add(`uid=${name},${people}`, { objectClass: 'posixAccount', uid: name, uidNumber: String(gid), gidNumber: String(gid) });
  }
  ldap.add(`cn=p1,${groups}`, { objectClass: 'posixGroup', cn: 'p1', gidNumber: '30001', memberUid: ['bob', 'alice'], btStart: '20231101080000Z', btEnd: '2023-11-05T20:00:00Z', embargo: '20261105000000Z' });
  ldap.add(`cn=p2,${groups}`, { objectClass: 'groupOfNames', cn: 'p2', member: [`uid=alice,${people}`, `cn=team,${groups}`, `cn=gone,${groups}`, 'uid=intruder,ou=elsewhere,dc=t'] });
  ldap.add(`cn=team,${groups}`, { objectClass: 'groupOfNames', cn: 'team', member: [`cn=sub,${groups}`, `cn=p2,${groups}`] });
  ldap.add(`cn=sub,${groups}`, { objectClass: 'groupOfNames', cn: 'sub', member: `uid=frank,${people}` });
  ldap.add('uid=intruder,ou=elsewhere,dc=t', { objectClass: 'posixAccount', uid: 'intruder', uidNumber: '1', gidNumber: '1' });
  ldap.add(`cn=p3,${groups}`, { objectClass: 'posixGroup', cn: 'p3', gidNumber: '30003', btStart: '20231101080000Z', embargo: 'next tuesday' });
  ldap.add(`cn=p4,${groups}`, { objectClass: 'posixGroup', cn: 'p4', gidNumber: '30004', btStart: '20231101080000Z' });
  return ldap;
}

describe('LdapProposals', () => {
  it('reads members, beamtime and embargo of a posixGroup proposal, primary-gid members included', async () => {
    expect(await new LdapProposals(directory(), settings).getProposal('1')).toEqual({
      id: '1', members: ['alice', 'bob', 'pia'],
      beamtime: { start: '2023-11-01T08:00:00Z', end: '2023-11-05T20:00:00Z' }, embargoUntil: '2026-11-05T00:00:00Z',
    });
  });

  it('expands nested groups, ignores dangling DNs, entries outside the bases and cycles', async () => {
    expect(await new LdapProposals(directory(), settings).getProposal('2')).toEqual({ id: '2', members: ['alice', 'frank'] });
    expect(await new LdapProposals(directory(), { ...settings, nestedGroupDepth: 1 }).getProposal('2')).toEqual({ id: '2', members: ['alice'] });
  });

  it('answers undefined for an unknown proposal or an injection attempt', async () => {
    const proposals = new LdapProposals(directory(), settings);
    for (const id of ['9', '*', '1)(cn=*', '']) expect(await proposals.getProposal(id)).toBeUndefined();
  });

  it('refuses an unreadable date instead of dropping it', async () => {
    await expect(new LdapProposals(directory(), settings).getProposal('3')).rejects.toThrow(DirectoryUnavailableError);
    await expect(new LdapProposals(directory(), settings).getProposal('3')).rejects.toThrow(/invalid embargo "next tuesday"/);
  });

  it('reports a beamtime only when both ends are known', async () => {
    expect(await new LdapProposals(directory(), settings).getProposal('4')).toEqual({ id: '4', members: [] });
  });
});
