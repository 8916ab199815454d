// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { cookieName, parseCookies, safeNext, serializeCookie, withoutCookies } from './http.ts';
import { downstreamHeaders, hostOnlyCookie, upstreamHeaders } from './proxy.ts';
import { crossOriginProblem } from './session-routes.ts';

describe('safe redirects after login', () => {
  it.each([
    ['//evil.example/x', '/'], ['/\\evil.example', '/'], ['https://evil.example/', '/'], ['javascript:alert(1)', '/'], ['/%2f%2fevil', '/%2f%2fevil'],
    ['/s/p1/nb/lab?x=1#y', '/s/p1/nb/lab?x=1#y'], ['/a\nb', '/'], ['', '/'], ['/s/p1/a/../b/', '/s/p1/b/'],
  ])('%j goes to %j', (next, want) => expect(safeNext(next)).toBe(want));
});

describe('cookies', () => {
  it('are host-only, HttpOnly, and __Host- prefixed over https', () => {
    expect(serializeCookie(cookieName('panalysis-login', true), 'v', { secure: true, maxAgeS: 60, sameSite: 'Lax' })).toBe('__Host-panalysis-login=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure');
    expect(parseCookies('a=1; b=2; a=3').get('a')).toBe('1');
    expect(withoutCookies('_xsrf=x; panalysis-session=s; other=o', ['panalysis-session'])).toBe('_xsrf=x; other=o');
  });
});

describe('what the proxy passes on', () => {
  const t = { host: '10.0.0.1', port: 8888, headers: { authorization: 'token T' }, dropCookies: ['panalysis-session'], proto: 'https' as const };
  it('drops forged identity and credentials, and adds the session token', () => {
    const h = upstreamHeaders({ host: 'a--p.s.example', authorization: 'Bearer forged', 'x-remote-user': 'root', 'x-forwarded-user': 'root', cookie: 'panalysis-session=s; _xsrf=x', 'x-forwarded-for': '1.2.3.4', connection: 'keep-alive, x-hop', 'x-hop': '1', accept: 'text/html' }, '127.0.0.1', t);
    expect(h).toEqual({ host: 'a--p.s.example', accept: 'text/html', cookie: '_xsrf=x', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'a--p.s.example', 'x-forwarded-for': '127.0.0.1', authorization: 'token T' });
  });
  it('drops CORS grants and keeps session cookies on their host', () => {
    const h = downstreamHeaders({ 'access-control-allow-origin': 'https://evil.example', 'access-control-allow-credentials': 'true', 'set-cookie': ['_xsrf=1; Domain=s.example; Path=/'], 'content-type': 'text/html' });
    expect(h).toEqual({ 'set-cookie': ['_xsrf=1; Path=/'], 'content-type': 'text/html' });
    expect(hostOnlyCookie('a=1;domain=.x.example;Secure')).toBe('a=1;Secure');
  });
});

describe('requests from other origins', () => {
  const req = (method: string, headers: Record<string, string>) => ({ method, headers }) as unknown as IncomingMessage;
  const own = 'https://a--p1.sessions.example';
  it('lets a navigation from anywhere in, and the session\u2019s own calls', () => {
    expect(crossOriginProblem(req('GET', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' }), own, false)).toBeUndefined();
    expect(crossOriginProblem(req('POST', { 'sec-fetch-site': 'same-origin', origin: own }), own, false)).toBeUndefined();
  });
  it('refuses calls and WebSockets from another session\u2019s pages', () => {
    const other = 'https://b--p1.sessions.example';
    expect(crossOriginProblem(req('GET', { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors', origin: other }), own, false)).toContain('same-site');
    expect(crossOriginProblem(req('POST', { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'navigate', origin: other }), own, false)).toBeDefined();
    expect(crossOriginProblem(req('POST', { origin: other }), own, false)).toContain(other);
    expect(crossOriginProblem(req('GET', { origin: other }), own, true)).toContain('WebSocket');
    expect(crossOriginProblem(req('GET', {}), own, true)).toContain('no origin');
  });
});
