// SPDX-License-Identifier: Apache-2.0
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from './sha256.ts';

describe('sha256Hex', () => {
  it.each(['', 'abc', 'proposal-7/7-raw', 'x'.repeat(55), 'y'.repeat(56), 'z'.repeat(64), 'ü€𝄞'])('matches node:crypto for %j', (s) => {
    expect(sha256Hex(s)).toBe(createHash('sha256').update(s).digest('hex'));
  });
  it('matches node:crypto for any string', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => sha256Hex(s) === createHash('sha256').update(s).digest('hex')));
  });
});
