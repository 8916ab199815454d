// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseSessionPath, sessionHostLabel, sessionOrigin, sessionUrl } from './session-url.ts';

const sub = { baseUrl: 'https://analysis.facility.example', routing: 'subdomain' as const, sessionDomain: 'sessions.facility.example' };

describe('session URLs', () => {
  it('gives each session its own origin under the session domain, with the path Jupyter serves', () => {
    expect(sessionUrl(sub, 'p123', 'nb')).toBe('https://nb--p123.sessions.facility.example/s/p123/nb/');
    expect(sessionOrigin({ ...sub, baseUrl: 'http://localhost:8080' }, 'p1', 'a')).toBe('http://a--p1.sessions.facility.example:8080');
  });

  it('keeps path routing on the gateway origin when a site opts in', () => {
    expect(sessionUrl({ baseUrl: 'https://g.example/', routing: 'path' }, 'p1', 'a')).toBe('https://g.example/s/p1/a/');
    expect(sessionOrigin({ baseUrl: 'https://g.example/', routing: 'path' }, 'p1', 'a')).toBe('https://g.example');
  });

  it('never gives two sessions the same host label, and every label is a DNS label', () => {
    const name = fc.stringMatching(/^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/);
    const ns = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    fc.assert(fc.property(name, ns, name, ns, (n1, s1, n2, s2) => {
      const a = sessionHostLabel(s1, n1);
      expect(a).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
      if (n1 !== n2 || s1 !== s2) expect(a).not.toBe(sessionHostLabel(s2, n2));
    }));
    // The ambiguous split that a plain join would allow.
    expect(sessionHostLabel('c', 'a--b')).not.toBe(sessionHostLabel('b--c', 'a'));
  });

  it('parses only resolved session paths', () => {
    expect(parseSessionPath('/s/p1/nb/lab/tree')).toEqual({ namespace: 'p1', name: 'nb', rest: '/lab/tree' });
    expect(parseSessionPath('/s/p1/nb')).toEqual({ namespace: 'p1', name: 'nb', rest: '' });
    expect(parseSessionPath('/s/p1/..')).toBeUndefined();
    expect(parseSessionPath('/s/P1/nb/')).toBeUndefined();
    expect(parseSessionPath('/x/p1/nb/')).toBeUndefined();
  });
});
