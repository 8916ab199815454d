// SPDX-License-Identifier: Apache-2.0
import Schema from 'typebox/schema';
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { LdapConfig } from './ldap.ts';

const validator = Schema.Compile(LdapConfig);
const minimal = { url: 'ldaps://ldap.facility.example', userBase: 'ou=people,dc=facility,dc=example', groupBase: 'ou=groups,dc=facility,dc=example' };

function check(value: unknown): boolean {
  return validator.Check(Value.Default(LdapConfig, structuredClone(value)));
}

describe('LdapConfig', () => {
  it('fills the documented defaults', () => {
    expect(Value.Default(LdapConfig, structuredClone(minimal))).toEqual({
      ...minimal,
      startTLS: false,
      tls: { insecureSkipVerify: false },
      userFilter: '(&(objectClass=posixAccount)(uid={user}))',
      nestedGroupDepth: 3,
      timeoutMs: 5000,
      cacheTtlSeconds: 300,
      negativeCacheTtlSeconds: 60,
      proposals: { groupPattern: 'p{proposal}' },
    });
    expect(check(minimal)).toBe(true);
  });

  const rejected: Record<string, Record<string, unknown>> = {
    'a URL that is not LDAP': { url: 'https://ldap.facility.example' },
    'a URL with a path': { url: 'ldap://ldap.facility.example/dc=x' },
    'an inline password': { bindDN: 'cn=svc,dc=x', bindPassword: 'secret' },
    'a relative password file': { bindPasswordFile: 'secret/password' },
    'a userFilter without {user}': { userFilter: '(uid=alice)' },
    'a groupPattern without {proposal}': { proposals: { groupPattern: 'proposal' } },
    'a negative nesting depth': { nestedGroupDepth: -1 },
    'a timeout under 100 ms': { timeoutMs: 10 },
    'an attribute name with a filter in it': { proposals: { embargoAttribute: 'x)(uid=*' } },
  };
  for (const [name, change] of Object.entries(rejected)) {
    it(`rejects ${name}`, () => expect(check({ ...minimal, ...change })).toBe(false));
  }
});
