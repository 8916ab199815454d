// SPDX-License-Identifier: Apache-2.0
/** Builds the LDAP adapters from the operator configuration (`directory.ldap`). */
import type { LdapConfig } from '../../config/ldap.ts';
import { LdapConnector } from './ldap-connection.ts';
import { LdapDirectory } from './ldap-directory.ts';
import { LdapProposals } from './ldap-proposals.ts';

/** Both LDAP adapters, sharing one connection setup. */
export interface LdapAdapters {
  directory: LdapDirectory;
  proposals: LdapProposals;
}

/** Optional seams for tests. */
export interface LdapAdapterOptions {
  /** Milliseconds since the epoch, for the caches. Default `Date.now`. */
  now?: () => number;
}

/**
 * The directory and proposal adapters for `config`, which must already carry its defaults (as
 * `parseConfig` returns it). Nothing is contacted yet: the first lookup connects.
 * @throws Error when `config` contradicts itself (`startTLS` with `ldaps://`, `bindDN` without
 * `bindPasswordFile`).
 */
export function createLdapAdapters(config: LdapConfig, options: LdapAdapterOptions = {}): LdapAdapters {
  const connector = new LdapConnector(config);
  return {
    directory: new LdapDirectory(connector, config, options.now),
    proposals: new LdapProposals(connector, config, options.now),
  };
}

/** The directory adapter alone; see {@link createLdapAdapters}. */
export function createLdapDirectory(config: LdapConfig, options: LdapAdapterOptions = {}): LdapDirectory {
  return createLdapAdapters(config, options).directory;
}

/** The proposal adapter alone; see {@link createLdapAdapters}. */
export function createLdapProposals(config: LdapConfig, options: LdapAdapterOptions = {}): LdapProposals {
  return createLdapAdapters(config, options).proposals;
}
