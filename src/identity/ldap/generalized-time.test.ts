// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { formatInstant, parseInstant } from './generalized-time.ts';

describe('parseInstant', () => {
  const valid: Record<string, { text: string; want: string }> = {
    'Generalized Time with seconds': { text: '20231101080000Z', want: '2023-11-01T08:00:00Z' },
    'Generalized Time, hour only': { text: '2023110108Z', want: '2023-11-01T08:00:00Z' },
    'Generalized Time with a fraction of a second': { text: '20240303180000.5Z', want: '2024-03-03T18:00:00.500Z' },
    'Generalized Time with a fraction of an hour': { text: '2024030318.25Z', want: '2024-03-03T18:15:00Z' },
    'Generalized Time with an offset': { text: '20231101090000+0100', want: '2023-11-01T08:00:00Z' },
    'Generalized Time with an hour offset': { text: '20231101030000-05', want: '2023-11-01T08:00:00Z' },
    'RFC 3339 UTC': { text: '2026-11-05T00:00:00Z', want: '2026-11-05T00:00:00Z' },
    'RFC 3339 with an offset and fraction': { text: '2026-11-05T01:00:00.250+01:00', want: '2026-11-05T00:00:00.250Z' },
  };
  for (const [name, c] of Object.entries(valid)) {
    it(`reads ${name}`, () => expect(formatInstant(parseInstant(c.text)!)).toBe(c.want));
  }

  const invalid: Record<string, string> = {
    'free text': 'next tuesday',
    'a local time without zone': '20231101080000',
    'an RFC 3339 time without zone': '2026-11-05T00:00:00',
    'the 30th of February': '20240230120000Z',
    'the 30th of February in RFC 3339': '2024-02-30T12:00:00Z',
    'month 13': '20241301120000Z',
    'hour 24': '20240101240000Z',
    'an impossible offset': '20240101120000+2500',
    'a date only': '2026-11-05',
    empty: '',
  };
  for (const [name, text] of Object.entries(invalid)) {
    it(`refuses ${name}`, () => expect(parseInstant(text)).toBeUndefined());
  }
});
