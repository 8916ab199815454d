// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { loadCookieKey, Sealer } from './seal.ts';
import { Tickets } from './tickets.ts';

const key = Buffer.alloc(32, 7);

describe('sealed values', () => {
  it('open only for their purpose, unaltered and before expiry', async () => {
    let now = 1_800_000_000_000;
    const s = new Sealer(key, () => now);
    const v = await s.seal('login', { user: 'alice' }, 60);
    expect(await s.open('login', v)).toMatchObject({ user: 'alice' });
    expect(await s.open('session', v)).toBeUndefined();
    expect(await s.open('login', `${v.slice(0, -3)}AAA`)).toBeUndefined();
    expect(await new Sealer(Buffer.alloc(32, 8), () => now).open('login', v)).toBeUndefined();
    now += 61_000;
    expect(await s.open('login', v)).toBeUndefined();
  });

  it('refuses a short or missing key with the setting to fix', () => {
    expect(() => loadCookieKey(undefined, {})).toThrow(/gateway\.cookieKeyFile: required/);
    expect(() => loadCookieKey(undefined, { PANALYSIS_GATEWAY_COOKIE_KEY: 'short' })).toThrow(/5 bytes; use at least 32/);
    expect(() => loadCookieKey('/nonexistent/key', {})).toThrow(/cannot read \/nonexistent\/key/);
  });
});

describe('one-time tickets', () => {
  it('are accepted once, only by their session, and not after 30 s', async () => {
    let now = 1_800_000_000_000;
    const s = new Sealer(key, () => now);
    const t = new Tickets(s, () => now);
    const claims = { user: 'alice', groups: [], label: 'nb--p1', uid: 'u1', loginExp: now + 3_600_000 };
    const a = await t.issue(claims);
    expect(await t.consume(a, 'other--p1')).toBeUndefined();
    expect(await t.consume(a, 'nb--p1')).toEqual(claims);
    expect(await t.consume(a, 'nb--p1')).toBeUndefined();
    const b = await t.issue(claims);
    now += 31_000;
    expect(await t.consume(b, 'nb--p1')).toBeUndefined();
    expect(await t.consume('forged', 'nb--p1')).toBeUndefined();
  });
});
