// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { desktopPage, desktopPageBody, NOVNC_PREFIX, serveGatewayAsset, serveNoVncAsset } from './novnc.ts';

/** A response that records what was written. */
function fakeResponse() {
  const out: { status?: number; headers: Record<string, string>; body?: Buffer | string } = { headers: {} };
  const res = {
    writeHead: (status: number, headers: Record<string, string>) => { Object.assign(out, { status, headers }); },
    end: (body?: Buffer | string) => { out.body = body; },
  } as unknown as ServerResponse;
  return { res, out };
}

const rfbJs = readFileSync(createRequire(import.meta.url).resolve('@novnc/novnc'));

describe('serveNoVncAsset', () => {
  it('serves noVNC modules as JavaScript with cache and nosniff headers', () => {
    const { res, out } = fakeResponse();
    expect(serveNoVncAsset(`${NOVNC_PREFIX}core/rfb.js?v=1`, res)).toBe(true);
    expect(out.status).toBe(200);
    expect(out.headers).toMatchObject({ 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'public, max-age=86400', 'X-Content-Type-Options': 'nosniff' });
    expect(out.body).toEqual(rfbJs);
  });

  it('serves the vendored modules noVNC imports', () => {
    const { res, out } = fakeResponse();
    serveNoVncAsset(`${NOVNC_PREFIX}vendor/pako/lib/zlib/deflate.js`, res);
    expect(out.status).toBe(200);
  });

  it('leaves other paths to the caller', () => {
    const { res, out } = fakeResponse();
    expect(serveNoVncAsset('/_panalysis/assets/desktop.js', res)).toBe(false);
    expect(out.status).toBeUndefined();
  });

  it.each([
    'core/../package.json', '%2e%2e/package.json', 'core/%2e%2e/%2E%2E/package.json', 'core/%252e%252e/rfb.js',
    'core\\..\\package.json', 'core%5c..%5cpackage.json', 'core/rfb.js%00', 'core/rfb.js\u0000.js', 'core/./rfb.js',
    'core//rfb.js', 'package.json', 'docs/API.md', 'vendor/pako/LICENSE', 'vendor/pako/README.md', 'core/', '',
    'core/missing.js', 'core/%E0%A4%A.js', '/etc/passwd', '%2fetc%2fpasswd', 'core/util',
  ])('answers 404 for %j', (rel) => {
    const { res, out } = fakeResponse();
    expect(serveNoVncAsset(`${NOVNC_PREFIX}${rel}`, res)).toBe(true);
    expect(out.status).toBe(404);
  });
});

describe('serveGatewayAsset', () => {
  it.each([['desktop.js', 'text/javascript; charset=utf-8'], ['desktop.css', 'text/css; charset=utf-8']])('serves %s', (name, type) => {
    const { res, out } = fakeResponse();
    expect(serveGatewayAsset(`/_panalysis/assets/${name}`, res)).toBe(true);
    expect([out.status, out.headers['Content-Type']]).toEqual([200, type]);
    expect(out.body).toEqual(readFileSync(new URL(`./assets/${name}`, import.meta.url)));
  });

  it.each(['../novnc.ts', '%2e%2e/novnc.ts', 'novnc.ts', 'sub/desktop.js', '..%2fnovnc.ts'])('answers 404 for %j', (rel) => {
    const { res, out } = fakeResponse();
    serveGatewayAsset(`/_panalysis/assets/${rel}`, res);
    expect(out.status).toBe(404);
  });
});

describe('the desktop page', () => {
  const opts = { title: 'alice <desk>', wsPath: '/s/ns/alice/_panalysis/vnc?a="b"', assetBase: '/_panalysis/assets/' };

  it('has no inline script, style or event handler, and escapes what it shows', () => {
    const page = desktopPage(opts);
    expect(page).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(page).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(page).toContain('alice &lt;desk&gt;');
    expect(page).toContain('<body class="desktop" data-ws="/s/ns/alice/_panalysis/vnc?a=&quot;b&quot;">');
  });

  it('loads its script and stylesheet from the asset base and has the status and screen elements', () => {
    const body = desktopPageBody(opts);
    expect(body).toContain('<script type="module" src="/_panalysis/assets/desktop.js"></script>');
    expect(body).toContain('<link rel="stylesheet" href="/_panalysis/assets/desktop.css">');
    expect(body).toMatch(/id="status"[^>]*>Connecting</);
    expect(body).toContain('<div id="screen"></div>');
  });
});
