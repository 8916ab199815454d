// SPDX-License-Identifier: Apache-2.0
import { randomBytes } from 'node:crypto';
import { EncryptJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { ConnectionTokens, issueConnectionToken, TOKEN_ERRORS } from './guac-tokens.ts';

const key = new Uint8Array(randomBytes(32));
const claims = { session: 'beamtime-1/desk', sessionUid: 'uid-1', user: 'ada' };
const expected = { session: claims.session, sessionUid: claims.sessionUid };

/** A clock that tests move by hand (ms). */
function clock(start = 1_800_000_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('connection tokens', () => {
  it('open once for their session and user', async () => {
    const c = clock();
    const tokens = new ConnectionTokens(key, c.now);
    const token = await issueConnectionToken(key, claims, 30, c.now);
    expect(await tokens.consume(token, expected)).toEqual({ user: 'ada' });
    expect(await tokens.consume(token, expected)).toEqual({ error: TOKEN_ERRORS.replayed });
  });

  it('refuse a token for another session, or for a re-created session of the same name, without using it up', async () => {
    const c = clock();
    const tokens = new ConnectionTokens(key, c.now);
    const token = await issueConnectionToken(key, claims, 30, c.now);
    expect(await tokens.consume(token, { session: 'beamtime-1/other', sessionUid: 'uid-1' })).toEqual({ error: TOKEN_ERRORS.otherSession });
    expect(await tokens.consume(token, { session: claims.session, sessionUid: 'uid-2' })).toEqual({ error: TOKEN_ERRORS.otherSession });
    expect(await tokens.consume(token, expected)).toEqual({ user: 'ada' });
  });

  it('refuse an expired token, and forget used ids once they expired', async () => {
    const c = clock();
    const tokens = new ConnectionTokens(key, c.now);
    const used = await issueConnectionToken(key, claims, 30, c.now);
    const late = await issueConnectionToken(key, claims, 30, c.now);
    await tokens.consume(used, expected);
    expect(tokens.remembered).toBe(1);
    c.t += 29_000;
    expect(await tokens.consume(used, expected)).toEqual({ error: TOKEN_ERRORS.replayed });
    c.t += 1_000;
    expect(await tokens.consume(late, expected)).toEqual({ error: TOKEN_ERRORS.expired });
    expect(tokens.remembered).toBe(0);
  });

  it('refuse forged, damaged and foreign tokens', async () => {
    const c = clock();
    const tokens = new ConnectionTokens(key, c.now);
    const token = await issueConnectionToken(key, claims, 30, c.now);
    const parts = token.split('.');
    const tag = Buffer.from(parts[4]!, 'base64url');
    tag[0]! ^= 1;
    const flipped = [...parts.slice(0, 4), tag.toString('base64url')].join('.');
    const otherKey = await issueConnectionToken(new Uint8Array(randomBytes(32)), claims, 30, c.now);
    // Made with the right key but not by issueConnectionToken (no typ, no id): still refused.
    const untyped = await new EncryptJWT({ session: claims.session, sid: claims.sessionUid, sub: 'eve' }).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).setExpirationTime(Math.floor(c.t / 1000) + 30).encrypt(key);
    for (const bad of [flipped, otherKey, untyped, 'not-a-token', '']) {
      expect(await tokens.consume(bad, expected)).toEqual({ error: TOKEN_ERRORS.invalid });
    }
    expect(await tokens.consume(token, expected)).toEqual({ user: 'ada' });
  });

  it('never carry the claims in clear text', async () => {
    const token = await issueConnectionToken(key, claims);
    const clear = token.split('.').map((p) => Buffer.from(p, 'base64url').toString('latin1')).join(' ');
    expect(clear).not.toContain('ada');
    expect(clear).not.toContain('beamtime-1');
  });

  it('need a 32-byte key', async () => {
    expect(() => new ConnectionTokens(new Uint8Array(16))).toThrow(/32 bytes/);
    await expect(issueConnectionToken(new Uint8Array(31), claims)).rejects.toThrow(/32 bytes/);
  });
});
