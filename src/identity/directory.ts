// SPDX-License-Identifier: Apache-2.0
/**
 * The directory port: who a facility user is on the shared file systems. Adapters:
 * `static` (a YAML list, for small sites and the demo); LDAP follows the same port.
 */

/** A POSIX group. */
export interface PosixGroup {
  name: string;
  gid: number;
}

/** A user as the file systems know them. */
export interface PosixIdentity {
  user: string;
  uid: number;
  gid: number;
  home?: string;
  /** Every group the user belongs to (primary group not repeated). */
  groups: PosixGroup[];
  /**
   * Set when the directory's data for this user cannot be trusted, in words naming the
   * problem (e.g. another user has the same uidNumber): callers refuse such an identity.
   */
  invalid?: string;
}

/** The directory could not answer (down, slow, misconfigured); retry later. */
export class DirectoryUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DirectoryUnavailableError';
  }
}

/**
 * Looks users up.
 * Contract: resolves `undefined` when the user does not exist; throws
 * {@link DirectoryUnavailableError} when the directory cannot answer.
 */
export interface Directory {
  lookupUser(name: string): Promise<PosixIdentity | undefined>;
  /**
   * Every group name of `user`, including groups without a gid (e.g. LDAP groupOfNames)
   * and the primary group: what DatasetMount access and proposal checks compare with.
   * Optional; without it the names of {@link PosixIdentity.groups} are used.
   */
  groupNames?(user: string): Promise<string[] | undefined>;
}
