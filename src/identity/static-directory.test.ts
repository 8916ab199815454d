// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { StaticDirectory } from './static-directory.ts';

const dir = new StaticDirectory({
  users: [
    { name: 'alice', uid: 20001, gid: 20001, groups: ['p1'] },
    { name: 'bob', uid: 20002, gid: 20002 },
  ],
  groups: [
    { name: 'p1', gid: 30001 },
    { name: 'p1-writers', gid: 30002, members: ['alice'] },
    { name: 'staff', gid: 30003, members: ['bob'] },
  ],
});

describe('StaticDirectory', () => {
  it('resolves groups named on the user and groups listing the user', async () => {
    expect(await dir.lookupUser('alice')).toEqual({
      user: 'alice', uid: 20001, gid: 20001, home: undefined,
      groups: [{ name: 'p1', gid: 30001 }, { name: 'p1-writers', gid: 30002 }],
    });
    expect((await dir.lookupUser('bob'))?.groups).toEqual([{ name: 'staff', gid: 30003 }]);
  });

  it('marks an identity whose uid another user shares as invalid', async () => {
    const shared = new StaticDirectory({ users: [{ name: 'alice', uid: 20001, gid: 20001 }, { name: 'mallory', uid: 20001, gid: 20099 }] });
    expect((await shared.lookupUser('alice'))?.invalid).toBe('uid 20001 is also the uid of mallory');
    expect((await dir.lookupUser('alice'))?.invalid).toBeUndefined();
  });

  it('answers undefined for an unknown user', async () => {
    expect(await dir.lookupUser('mallory')).toBeUndefined();
  });
});
