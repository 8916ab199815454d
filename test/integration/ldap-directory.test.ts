// SPDX-License-Identifier: Apache-2.0
/** The LDAP adapters against a real OpenLDAP slapd with the facility seed (test/fixtures/ldap). */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LdapConfig } from '../../src/config/ldap.ts';
import { DirectoryUnavailableError } from '../../src/identity/directory.ts';
import { createLdapAdapters } from '../../src/identity/ldap/create-ldap.ts';
import type { LdapAdapters } from '../../src/identity/ldap/create-ldap.ts';
import { startSlapd } from './slapd.ts';
import type { Slapd } from './slapd.ts';


const GROUPS = 'ou=groups,dc=facility,dc=test';

describe('LDAP adapters against slapd', () => {
  let slapd: Slapd;
  const clock = { now: Date.now() };

  beforeAll(async () => {
    slapd = await startSlapd();
  });
  afterAll(async () => {
    await slapd?.close();
  });

  function config(extra: Record<string, unknown> = {}): LdapConfig {
    return Value.Default(LdapConfig, {
      url: slapd.url, bindDN: slapd.bindDN, bindPasswordFile: slapd.bindPasswordFile,
      userBase: 'ou=people,dc=facility,dc=test', groupBase: GROUPS, timeoutMs: 2000,
      proposals: { beamtimeStartAttribute: 'facilityBeamtimeStart', beamtimeEndAttribute: 'facilityBeamtimeEnd', embargoAttribute: 'facilityEmbargoUntil' },
      ...extra,
    }) as LdapConfig;
  }

  function adapters(extra: Record<string, unknown> = {}): LdapAdapters {
    return createLdapAdapters(config(extra), { now: () => clock.now });
  }

  async function unavailableAfter(promise: Promise<unknown>): Promise<{ message: string }> {
    const error = await promise.then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(DirectoryUnavailableError);
    return { message: (error as Error).message };
  }

  describe('users', () => {
    it('resolves alice with her ids, home, POSIX groups and every group name', async () => {
      const { directory } = adapters();
      expect(await directory.memberships('alice')).toEqual({
        dn: 'uid=alice,ou=people,dc=facility,dc=test',
        identity: {
          user: 'alice', uid: 20001, gid: 20001, home: '/home/alice',
          groups: [{ name: 'p20231234', gid: 30001 }, { name: 'p20231234-writers', gid: 30002 }, { name: 'p20240007', gid: 30007 }],
        },
        groupNames: ['alice', 'p20231234', 'p20231234-writers', 'p20240007'],
      });
    });

    it('resolves bob in the proposal group and carol in no group', async () => {
      const { directory } = adapters();
      expect(await directory.lookupUser('bob')).toEqual({ user: 'bob', uid: 20002, gid: 20002, home: '/home/bob', groups: [{ name: 'p20231234', gid: 30001 }] });
      expect((await directory.lookupUser('carol'))?.groups).toEqual([]);
    });

    it('finds frank through nested groupOfNames, bounded by nestedGroupDepth', async () => {
      const { directory } = adapters();
      expect(await directory.groupNames('frank')).toEqual(['p20231234-sub', 'p20231234-team', 'p20240007']);
      expect((await directory.lookupUser('frank'))?.groups).toEqual([{ name: 'p20240007', gid: 30007 }]);
      expect(await adapters({ nestedGroupDepth: 1 }).directory.groupNames('frank')).toEqual(['p20231234-sub', 'p20231234-team']);
      expect(await adapters({ nestedGroupDepth: 0 }).directory.groupNames('frank')).toEqual(['p20231234-sub']);
    });

    it('survives a group cycle', async () => {
      const { directory } = adapters({ nestedGroupDepth: 10 });
      expect(await directory.groupNames('grace')).toEqual(['cycle-a', 'cycle-b']);
      expect((await directory.lookupUser('grace'))?.groups).toEqual([{ name: 'cycle-b', gid: 30020 }]);
    });

    it('returns all 20 groups of dave, sorted by gid', async () => {
      const groups = (await adapters().directory.lookupUser('dave'))!.groups;
      expect(groups).toHaveLength(20);
      expect(groups.map((g) => g.gid)).toEqual(Array.from({ length: 20 }, (_, i) => 31001 + i));
    });

    it('answers undefined for eve (no POSIX account), unknown users and filter injection', async () => {
      const { directory } = adapters();
      for (const name of ['eve', 'nobody', 'alice)(uid=*', '*', 'alice*', '*)(objectClass=*']) {
        expect(await directory.lookupUser(name), name).toBeUndefined();
      }
    });

    it('reports mallory with uid 0 as stored; refusing it is directory.minId policy', async () => {
      expect(await adapters().directory.lookupUser('mallory')).toMatchObject({ uid: 0, gid: 0 });
    });
  });

  describe('proposals', () => {
    it('reads proposal 20231234: members, beamtime (Generalized Time) and embargo (RFC 3339 text)', async () => {
      expect(await adapters().proposals.getProposal('20231234')).toEqual({
        id: '20231234', members: ['alice', 'bob'],
        beamtime: { start: '2023-11-01T08:00:00Z', end: '2023-11-05T20:00:00Z' },
        embargoUntil: '2026-11-05T00:00:00Z',
      });
    });

    it('expands nested members of proposal 20240007 (groupOfNames with a gidNumber)', async () => {
      expect(await adapters().proposals.getProposal('20240007')).toEqual({
        id: '20240007', members: ['alice', 'frank'],
        beamtime: { start: '2024-03-01T06:00:00Z', end: '2024-03-03T18:00:00.500Z' },
      });
      expect((await adapters({ nestedGroupDepth: 1 }).proposals.getProposal('20240007'))?.members).toEqual(['alice']);
    });

    it('answers undefined for an unknown proposal and refuses an unreadable embargo', async () => {
      const { proposals } = adapters();
      expect(await proposals.getProposal('99999999')).toBeUndefined();
      expect(await proposals.getProposal('2023*')).toBeUndefined();
      const { message } = await unavailableAfter(proposals.getProposal('19990001'));
      expect(message).toMatch(/invalid facilityEmbargoUntil "next tuesday"/);
    });
  });

  describe('TLS', () => {
    it('works with StartTLS and with ldaps:// when the CA is given', async () => {
      const tls = { caFile: slapd.caFile };
      expect((await adapters({ startTLS: true, tls }).directory.lookupUser('alice'))?.uid).toBe(20001);
      expect((await adapters({ url: slapd.ldapsUrl, tls }).directory.lookupUser('alice'))?.uid).toBe(20001);
    });

    it('refuses a server certificate from an unknown CA unless told to skip verification', async () => {
      const { message } = await unavailableAfter(adapters({ url: slapd.ldapsUrl }).directory.lookupUser('alice'));
      expect(message).toMatch(/certificate/i);
      expect((await adapters({ url: slapd.ldapsUrl, tls: { insecureSkipVerify: true } }).directory.lookupUser('alice'))?.uid).toBe(20001);
    });
  });

  describe('failures', () => {
    it('fails fast on a wrong bind password', async () => {
      const wrong = join(slapd.dir, 'wrong-password');
      await writeFile(wrong, 'not-the-password');
      const { message } = await unavailableAfter(adapters({ bindPasswordFile: wrong, timeoutMs: 10_000 }).directory.lookupUser('alice'));
      // The server's answer, not the 10 s timeout.
      expect(message).toMatch(/bind as cn=panalysis,ou=services,dc=facility,dc=test at .* failed: .*invalid credentials/i);
      expect(message).not.toMatch(/did not answer/);
    });

    it('fails rather than answering "not found" when bound anonymously (no read access)', async () => {
      const { message } = await unavailableAfter(adapters({ bindDN: undefined, bindPasswordFile: undefined }).directory.lookupUser('alice'));
      expect(message).toMatch(/search of ou=people,dc=facility,dc=test .* failed/);
    });

    it('fails fast while slapd is stopped and recovers when it is back', async () => {
      const { directory } = adapters({ cacheTtlSeconds: 0, negativeCacheTtlSeconds: 0, timeoutMs: 10_000 });
      await slapd.stop();
      try {
        const { message } = await unavailableAfter(directory.lookupUser('alice'));
        // Refused at once, not the 10 s timeout.
        expect(message).toMatch(/connect, then bind .* failed: .*ECONNREFUSED/);
        expect(message).not.toMatch(/did not answer/);
      } finally {
        await slapd.start();
      }
      expect((await directory.lookupUser('alice'))?.uid).toBe(20001);
    });

    it('gives up after timeoutMs on a hung (SIGSTOPped) slapd and recovers after SIGCONT', async () => {
      const { directory, proposals } = adapters({ timeoutMs: 1000, cacheTtlSeconds: 0, negativeCacheTtlSeconds: 0 });
      slapd.pause();
      try {
        const [user, proposal] = await Promise.all([unavailableAfter(directory.lookupUser('alice')), unavailableAfter(proposals.getProposal('20231234'))]);
        for (const r of [user, proposal]) {
          expect(r.message).toMatch(/did not answer within 1000 ms \(during (bind|search)/);
        }
      } finally {
        slapd.resume();
      }
      expect((await directory.lookupUser('alice'))?.uid).toBe(20001);
      expect((await proposals.getProposal('20231234'))?.members).toEqual(['alice', 'bob']);
    });

    it('works again after a restart', async () => {
      const { directory } = adapters({ cacheTtlSeconds: 0 });
      await slapd.restart();
      expect((await directory.lookupUser('bob'))?.uid).toBe(20002);
    });
  });

  describe('cache', () => {
    const removeBob = `dn: cn=p20231234,${GROUPS}\nchangetype: modify\ndelete: memberUid\nmemberUid: bob\n`;
    const addBob = `dn: cn=p20231234,${GROUPS}\nchangetype: modify\nadd: memberUid\nmemberUid: bob\n`;

    it('shows a membership removal after cacheTtlSeconds, not before', async () => {
      const { directory, proposals } = adapters({ cacheTtlSeconds: 300 });
      expect((await proposals.getProposal('20231234'))?.members).toEqual(['alice', 'bob']);
      expect(await directory.groupNames('bob')).toEqual(['p20231234']);
      await slapd.modify(removeBob);
      try {
        clock.now += 299_000;
        expect((await proposals.getProposal('20231234'))?.members).toEqual(['alice', 'bob']);
        expect(await directory.groupNames('bob')).toEqual(['p20231234']);
        clock.now += 1_000;
        expect((await proposals.getProposal('20231234'))?.members).toEqual(['alice']);
        expect(await directory.groupNames('bob')).toEqual([]);
      } finally {
        await slapd.modify(addBob);
      }
    });

    it('shows a change at once after invalidate', async () => {
      const { proposals } = adapters();
      expect((await proposals.getProposal('20231234'))?.members).toEqual(['alice', 'bob']);
      await slapd.modify(removeBob);
      try {
        proposals.invalidate('20231234');
        expect((await proposals.getProposal('20231234'))?.members).toEqual(['alice']);
      } finally {
        await slapd.modify(addBob);
      }
    });

    it('keeps "not found" for negativeCacheTtlSeconds', async () => {
      const { directory } = adapters();
      expect(await directory.lookupUser('zoe')).toBeUndefined();
      await slapd.modify([
        'dn: uid=zoe,ou=people,dc=facility,dc=test', 'changetype: add', 'objectClass: inetOrgPerson', 'objectClass: posixAccount',
        'uid: zoe', 'cn: Zoe New', 'sn: New', 'uidNumber: 20009', 'gidNumber: 20009', 'homeDirectory: /home/zoe', '',
      ].join('\n'));
      try {
        clock.now += 59_000;
        expect(await directory.lookupUser('zoe')).toBeUndefined();
        clock.now += 1_000;
        expect((await directory.lookupUser('zoe'))?.uid).toBe(20009);
      } finally {
        await slapd.modify('dn: uid=zoe,ou=people,dc=facility,dc=test\nchangetype: delete\n');
      }
    });
  });
});
