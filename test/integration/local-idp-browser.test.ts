// SPDX-License-Identifier: Apache-2.0
/**
 * The local identity provider's sign-in in a real browser (Chromium), and the browser fact
 * the gateway relies on: every `*.localhost` name reaches the loopback address.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { startLocalIdp } from '../../src/cluster/local-idp.ts';
import type { LocalIdp } from '../../src/cluster/local-idp.ts';
import { launchBrowser, screenshotPath } from './browser.ts';

const SECRET = 'browser-test-secret';

/** A tiny web app on 127.0.0.1: it records each request's Host and URL and answers with them. */
function startApp(): Promise<{ server: Server; port: number; seen: Array<{ host: string; url: string }> }> {
  const seen: Array<{ host: string; url: string }> = [];
  const server = createServer((req, res) => {
    seen.push({ host: req.headers.host ?? '', url: req.url ?? '' });
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`app at ${req.headers.host ?? ''}${req.url ?? ''}`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    resolve({ server, port: (server.address() as { port: number }).port, seen });
  }));
}

describe('the local identity provider in Chromium', () => {
  let browser: Browser;
  let idp: LocalIdp;
  let app: Awaited<ReturnType<typeof startApp>>;

  beforeAll(async () => {
    app = await startApp();
    idp = await startLocalIdp({
      users: [{ username: 'alice', password: 'alice-pw', name: 'Alice', groups: ['p1234'] }],
      clients: [{ clientId: 'app', clientSecret: SECRET, redirectUris: [`http://app.localhost:${app.port}/callback`] }],
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await idp?.stop();
    await new Promise((r) => app?.server.close(r));
  });

  it('resolves any *.localhost name to the loopback address', async () => {
    const page = await browser.newPage();
    await page.goto(`http://anything.localhost:${app.port}/hello`);
    expect(await page.textContent('body')).toBe(`app at anything.localhost:${app.port}/hello`);
    expect(app.seen.find((r) => r.url === '/hello')?.host).toBe(`anything.localhost:${app.port}`);
    await page.close();
  });

  it('signs in through the form and hands a code to the redirect URI that the client redeems', async () => {
    const redirectUri = `http://app.localhost:${app.port}/callback`;
    const config = await oidc.discovery(new URL(idp.issuer), 'app', undefined, oidc.ClientSecretBasic(SECRET),
      { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri, scope: 'openid profile groups', state, nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });

    const page = await browser.newPage();
    await page.goto(url.href);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByText('Wrong username or password').isVisible()).toBe(true);
    await page.screenshot({ path: screenshotPath('local-idp-login') });

    await page.getByLabel('Password').fill('alice-pw');
    await Promise.all([
      page.waitForURL((u) => u.href.startsWith(redirectUri)),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    const arrived = app.seen.find((r) => r.url.startsWith('/callback?'));
    expect(arrived?.host).toBe(`app.localhost:${app.port}`);
    const callback = new URL(arrived!.url, `http://${arrived!.host}`);
    expect(callback.href).toBe(page.url());
    expect(callback.searchParams.get('code')).toBeTruthy();
    expect(callback.searchParams.get('state')).toBe(state);
    const tokens = await oidc.authorizationCodeGrant(config, callback,
      { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    expect(tokens.claims()).toMatchObject({ sub: 'alice', preferred_username: 'alice', name: 'Alice', groups: ['p1234'] });
    await page.close();
  });
});
