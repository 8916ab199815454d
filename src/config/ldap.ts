// SPDX-License-Identifier: Apache-2.0
/** Configuration of the LDAP directory and proposal adapters (placeholder; completed with the LDAP adapter). */
import Type from 'typebox';

export const LdapConfig = Type.Object({
  url: Type.String({ pattern: '^ldaps?://' }),
});
export type LdapConfig = Type.Static<typeof LdapConfig>;
