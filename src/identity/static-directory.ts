// SPDX-License-Identifier: Apache-2.0
/** The `static` directory: users and groups from the operator configuration. */
import type { DirectoryConfig } from '../config/schema.ts';
import type { Directory, PosixGroup, PosixIdentity } from './directory.ts';

type StaticConfig = NonNullable<DirectoryConfig['static']>;

/**
 * A user's groups are the groups named on the user plus the groups that list the user
 * as a member; group names without a gid in `groups` are skipped. A uid that another user
 * of the list shares makes the identity {@link PosixIdentity.invalid}.
 */
export class StaticDirectory implements Directory {
  private readonly config: StaticConfig;

  constructor(config: StaticConfig) {
    this.config = config;
  }

  async lookupUser(name: string): Promise<PosixIdentity | undefined> {
    const user = this.config.users.find((u) => u.name === name);
    if (!user) return undefined;
    const groups = this.config.groups ?? [];
    const names = new Set([...(user.groups ?? []), ...groups.filter((g) => g.members?.includes(name)).map((g) => g.name)]);
    const resolved: PosixGroup[] = groups.filter((g) => names.has(g.name) && g.gid !== user.gid).map((g) => ({ name: g.name, gid: g.gid }));
    const sharing = this.config.users.filter((u) => u.uid === user.uid && u.name !== user.name).map((u) => u.name);
    const invalid = sharing.length > 0 ? `uid ${user.uid} is also the uid of ${sharing.join(', ')}` : undefined;
    return { user: user.name, uid: user.uid, gid: user.gid, home: user.home, groups: resolved.sort((a, b) => a.gid - b.gid), ...(invalid ? { invalid } : {}) };
  }
}
