// SPDX-License-Identifier: Apache-2.0
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { startLocalIdp } from './local-idp.ts';
import type { LocalIdp } from './local-idp.ts';

const REDIRECT = 'http://gw.localhost:18080/callback';
const LOGGED_OUT = 'http://gw.localhost:18080/signed-out';
const SECRET = 'gw-secret-0123456789';
const ALICE = { username: 'alice', password: 'alice-pw', name: 'Alice Liddell', email: 'alice@example.org', groups: ['p1234', 'staff'] };

/** A cookie jar that keeps name=value pairs (path and domain ignored: one host, distinct names). */
class Jar {
  private readonly cookies = new Map<string, string>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const gone = attrs.some((a) => /^\s*(max-age=0|expires=.*1970)/i.test(a));
      if (gone) this.cookies.delete(pair.slice(0, eq));
      else this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** What a browser ends with: a page it shows, or the URL it was sent to at the client. */
interface Outcome { res: Response; url: string; html: string; atClient?: URL }

/** Follows redirects by hand (keeping cookies) until a page or a redirect to a `stopAt` URL. */
async function browse(jar: Jar, url: string, init: RequestInit = {}, stopAt = 'http://gw.localhost'): Promise<Outcome> {
  let current = url;
  let request = init;
  for (let hop = 0; hop < 10; hop++) {
    const res = await fetch(current, { ...request, redirect: 'manual', headers: { ...request.headers, cookie: jar.header() } });
    jar.take(res);
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) return { res, url: current, html: await res.text() };
    const next = new URL(location, current);
    if (next.href.startsWith(stopAt)) return { res, url: current, html: '', atClient: next };
    current = next.href;
    request = {};
  }
  throw new Error('too many redirects');
}

function formAction(page: Outcome): string {
  const action = /<form [^>]*method="post" action="([^"]+)"/.exec(page.html)?.[1];
  if (!action) throw new Error(`no form on ${page.url}: ${page.html.slice(0, 300)}`);
  return new URL(action.replace(/&#38;/g, '&'), page.url).href;
}

function postForm(jar: Jar, action: string, fields: Record<string, string>, origin: string): Promise<Outcome> {
  return browse(jar, action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
    body: new URLSearchParams(fields).toString(),
  });
}

interface Started { jar: Jar; verifier: string; state: string; nonce: string; page: Outcome }

async function startLogin(config: oidc.Configuration, extra: Record<string, string> = {}): Promise<Started> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid profile email groups', state, nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
  });
  const jar = new Jar();
  return { jar, verifier, state, nonce, page: await browse(jar, url.href) };
}

describe('the local identity provider', () => {
  let idp: LocalIdp;
  let config: oidc.Configuration;
  const discover = (clientId: string, auth: oidc.ClientAuth) =>
    oidc.discovery(new URL(idp.issuer), clientId, undefined, auth, { execute: [oidc.allowInsecureRequests] });

  /** Signs alice in through the form; resolves the callback URL with the code. */
  async function login(c = config): Promise<Started & { callback: URL }> {
    const started = await startLogin(c);
    const done = await postForm(started.jar, formAction(started.page), { username: ALICE.username, password: ALICE.password }, idp.issuer);
    if (!done.atClient) throw new Error(`no redirect to the client: ${done.res.status} ${done.html.slice(0, 300)}`);
    return { ...started, callback: done.atClient };
  }

  beforeAll(async () => {
    idp = await startLocalIdp({
      port: 0,
      ttl: { idTokenS: 600 },
      users: [ALICE, { username: 'bob', password: 'bob-pw' }],
      clients: [
        { clientId: 'gateway', clientSecret: SECRET, redirectUris: [REDIRECT], postLogoutRedirectUris: [LOGGED_OUT] },
        { clientId: 'poster', clientSecret: SECRET, redirectUris: [REDIRECT], tokenEndpointAuthMethod: 'client_secret_post' },
      ],
    });
    config = await discover('gateway', oidc.ClientSecretBasic(SECRET));
  });
  afterAll(async () => idp?.stop());

  it('signs a user in with code flow and PKCE; the ID token carries the profile and groups', async () => {
    expect(idp.issuer).toBe(`http://localhost:${idp.port}`);
    const started = await startLogin(config);
    expect(started.page.res.status).toBe(200);
    expect(started.page.html).toContain('<label for="username">Username</label>');
    expect(started.page.html).toContain('<label for="password">Password</label>');
    expect(started.page.html).toContain('>Sign in</button>');
    expect(started.page.html).not.toMatch(/<script/i);
    expect(started.page.res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const done = await postForm(started.jar, formAction(started.page), { username: 'alice', password: ALICE.password }, idp.issuer);
    expect(done.atClient?.href).toMatch(/^http:\/\/gw\.localhost:18080\/callback\?code=/);
    const tokens = await oidc.authorizationCodeGrant(config, done.atClient!, {
      pkceCodeVerifier: started.verifier, expectedState: started.state, expectedNonce: started.nonce,
    });
    expect(tokens.claims()).toMatchObject({
      iss: idp.issuer, aud: 'gateway', sub: 'alice', preferred_username: 'alice',
      name: ALICE.name, email: ALICE.email, groups: ALICE.groups,
    });
    const claims = tokens.claims()!;
    expect(claims.exp - claims.iat).toBe(600);
  });

  it('publishes fresh RS256 and ES256 public keys only', async () => {
    const { keys } = await (await fetch(`${idp.issuer}/jwks`)).json() as { keys: Array<Record<string, string>> };
    expect(keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    for (const key of keys) expect(Object.keys(key).filter((name) => ['d', 'p', 'q', 'dp', 'dq', 'qi'].includes(name))).toEqual([]);
    const other = await startLocalIdp({ users: [], clients: [] });
    const otherKeys = await (await fetch(`${other.issuer}/jwks`)).json() as { keys: Array<Record<string, string>> };
    await other.stop();
    expect(otherKeys.keys.map((k) => k.kid)).not.toContain(keys[0]?.kid);
  });

  it('accepts client_secret_post for a client registered with it', async () => {
    const poster = await discover('poster', oidc.ClientSecretPost(SECRET));
    const { callback, verifier, state, nonce } = await login(poster);
    const tokens = await oidc.authorizationCodeGrant(poster, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    expect(tokens.claims()?.sub).toBe('alice');
  });

  it('answers a consent prompt forced by the client without asking the user', async () => {
    const started = await startLogin(config, { prompt: 'consent' });
    const done = await postForm(started.jar, formAction(started.page), { username: 'alice', password: ALICE.password }, idp.issuer);
    expect(done.atClient?.searchParams.get('code')).toBeTruthy();
  });

  it('shows the form again with one message for a wrong password and for an unknown user', async () => {
    for (const [username, password] of [['alice', 'wrong'], ['mallory', 'alice-pw']] as const) {
      const started = await startLogin(config);
      const again = await postForm(started.jar, formAction(started.page), { username, password }, idp.issuer);
      expect(again.res.status).toBe(200);
      expect(again.atClient).toBeUndefined();
      expect(again.html).toContain('Wrong username or password');
      expect(again.html).toContain('<label for="username">Username</label>');
    }
  });

  it('refuses a form posted from another origin', async () => {
    const started = await startLogin(config);
    const out = await postForm(started.jar, formAction(started.page), { username: 'alice', password: ALICE.password }, 'http://evil.localhost');
    expect(out.res.status).toBe(403);
    expect(out.atClient).toBeUndefined();
  });

  it('refuses a redirect_uri that is not registered, without redirecting to it', async () => {
    const started = await startLogin(config, { redirect_uri: 'http://evil.localhost:18080/callback' });
    expect(started.page.res.status).toBe(400);
    expect(started.page.atClient).toBeUndefined();
    expect(started.page.html).toMatch(/redirect_uri/);
  });

  it('refuses an authorization request without a PKCE challenge', async () => {
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', state: oidc.randomState() });
    const out = await browse(new Jar(), url.href);
    expect(out.atClient?.searchParams.get('error')).toBe('invalid_request');
    expect(out.atClient?.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('refuses a wrong client secret at the token endpoint', async () => {
    const { callback, verifier, state, nonce } = await login();
    const wrong = await discover('gateway', oidc.ClientSecretBasic('not-the-secret'));
    await expect(oidc.authorizationCodeGrant(wrong, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }))
      .rejects.toMatchObject({ status: 401, cause: [{ parameters: { error: 'invalid_client' } }] });
  });

  it('refuses a code redeemed with the wrong PKCE verifier', async () => {
    const { callback, state, nonce } = await login();
    await expect(oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: state, expectedNonce: nonce }))
      .rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('stops with keep-alive connections open and frees its port', async () => {
    const other = await startLocalIdp({ users: [], clients: [] });
    const res = await fetch(`${other.issuer}/.well-known/openid-configuration`, { headers: { connection: 'keep-alive' } });
    expect(res.status).toBe(200);
    await other.stop();
    await expect(fetch(`${other.issuer}/.well-known/openid-configuration`)).rejects.toThrow();
  });

  it('signs out through RP-initiated logout and reaches the post_logout_redirect_uri', async () => {
    const { jar, callback, verifier, state, nonce } = await login();
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    const signedIn = await browse(jar, oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href);
    expect(signedIn.atClient?.searchParams.get('code')).toBeTruthy();

    const end = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: LOGGED_OUT, state: 'bye' });
    const confirm = await browse(jar, end.href);
    expect(confirm.res.status).toBe(200);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.html)?.[1];
    expect(xsrf).toBeTruthy();
    const out = await postForm(jar, formAction(confirm), { xsrf: xsrf!, logout: 'yes' }, idp.issuer);
    expect(out.atClient?.href).toBe(`${LOGGED_OUT}?state=bye`);

    const again = await browse(jar, oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href);
    expect(again.atClient).toBeUndefined();
    expect(again.html).toContain('>Sign in</button>');
  });
});
