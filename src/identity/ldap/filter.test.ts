// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { EqualityFilter, FilterParser } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { andFilter, equalityFilter, escapeFilterValue, fillFilter, orFilter } from './filter.ts';

describe('escapeFilterValue', () => {
  const cases: Record<string, { value: string; want: string }> = {
    'plain name': { value: 'alice', want: 'alice' },
    'injection attempt': { value: 'alice)(uid=*', want: 'alice\\29\\28uid=\\2a' },
    'wildcard only': { value: '*', want: '\\2a' },
    backslash: { value: 'a\\b', want: 'a\\5cb' },
    NUL: { value: 'a\0b', want: 'a\\00b' },
    'UTF-8 passes through': { value: 'zoë', want: 'zoë' },
  };
  for (const [name, c] of Object.entries(cases)) {
    it(`escapes ${name}`, () => expect(escapeFilterValue(c.value)).toBe(c.want));
  }

  it('round-trips any value through an LDAP filter parser as one equality assertion', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (value) => {
      const parsed = FilterParser.parseString(equalityFilter('uid', value));
      expect(parsed).toBeInstanceOf(EqualityFilter);
      expect((parsed as EqualityFilter).value).toBe(value);
    }));
  });
});

describe('fillFilter', () => {
  it('replaces placeholders with escaped values', () => {
    expect(fillFilter('(&(objectClass=posixAccount)(uid={user}))', { user: '*)(|(uid=*' }))
      .toBe('(&(objectClass=posixAccount)(uid=\\2a\\29\\28|\\28uid=\\2a))');
  });

  it('replaces every occurrence', () => {
    expect(fillFilter('(|(uid={user})(mail={user}))', { user: 'bob' })).toBe('(|(uid=bob)(mail=bob))');
  });

  it('leaves unknown placeholders as they are', () => {
    expect(fillFilter('(uid={usr})', { user: 'bob' })).toBe('(uid={usr})');
  });
});

describe('andFilter and orFilter', () => {
  it('combine filters and return a single filter unchanged', () => {
    expect(andFilter(['(a=1)', '(b=2)'])).toBe('(&(a=1)(b=2))');
    expect(orFilter(['(a=1)', '(b=2)'])).toBe('(|(a=1)(b=2))');
    expect(orFilter(['(a=1)'])).toBe('(a=1)');
  });

  it('refuses an empty disjunction', () => {
    expect(() => orFilter([])).toThrow(/no filters/);
  });
});
