// SPDX-License-Identifier: Apache-2.0
/** Builds the directory and proposal adapters the configuration names. */
import type { OperatorConfig } from '../config/schema.ts';
import type { Directory } from '../identity/directory.ts';
import { StaticProposals } from '../identity/proposals.ts';
import type { ProposalDirectory } from '../identity/proposals.ts';
import { StaticDirectory } from '../identity/static-directory.ts';
import { createLdapAdapters } from '../identity/ldap/create-ldap.ts';

/** The identity and proposal sources a configuration names (LDAP adapters share one cache pair). */
export interface Sources {
  directory: Directory;
  proposals: ProposalDirectory;
}

/**
 * Builds the sources of `config`; call again after a configuration reload.
 * @throws Error when an LDAP provider is chosen without `directory.ldap` (load.ts reports that first).
 */
export function sourcesFromConfig(config: OperatorConfig): Sources {
  const ldap = config.directory.ldap ? createLdapAdapters(config.directory.ldap) : undefined;
  const need = (): NonNullable<typeof ldap> => {
    if (!ldap) throw new Error('directory.ldap: required when the directory or proposals provider is ldap');
    return ldap;
  };
  return {
    directory: config.directory.provider === 'ldap' ? need().directory : new StaticDirectory(config.directory.static ?? { users: [] }),
    proposals: config.proposals.provider === 'ldap' ? need().proposals : new StaticProposals(config.proposals.static ?? []),
  };
}
