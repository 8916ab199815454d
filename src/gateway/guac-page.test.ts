// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { GUACAMOLE_PREFIX, guacamolePageBody, serveGuacamoleAsset } from './guac-page.ts';
import { ASSET_PREFIX } from './pages.ts';

/** A response that records what was written. */
function fakeResponse() {
  const out: { status?: number; headers: Record<string, string>; body?: Buffer | string } = { headers: {} };
  const res = {
    writeHead: (status: number, headers: Record<string, string>) => {
      Object.assign(out, { status, headers });
    },
    end: (body?: Buffer | string) => {
      out.body = body;
    },
  } as unknown as ServerResponse;
  return { res, out };
}

describe('serveGuacamoleAsset', () => {
  it('serves the ES module build of guacamole-common-js as JavaScript', () => {
    const { res, out } = fakeResponse();
    expect(serveGuacamoleAsset(`${GUACAMOLE_PREFIX}guacamole-common.js?v=1`, res)).toBe(true);
    expect(out.status).toBe(200);
    expect(out.headers).toMatchObject({ 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'public, max-age=86400', 'X-Content-Type-Options': 'nosniff' });
    expect(String(out.body).trimEnd().endsWith('export default Guacamole;')).toBe(true);
  });

  it('answers 404 for any other name, traversal included, and leaves other paths alone', () => {
    for (const p of ['../../package.json', '%2e%2e/%2e%2e/package.json', '..%2Fcjs%2Fguacamole-common.js', 'guacamole-common.js/..', 'Guacamole-common.js', '']) {
      const { res, out } = fakeResponse();
      expect(serveGuacamoleAsset(GUACAMOLE_PREFIX + p, res)).toBe(true);
      expect(out.status).toBe(404);
    }
    const { res, out } = fakeResponse();
    expect(serveGuacamoleAsset('/_panalysis/assets/guacamole.js', res)).toBe(false);
    expect(out.status).toBeUndefined();
  });

  it('is where guacamole.js imports it from', () => {
    const script = readFileSync(new URL('./assets/guacamole.js', import.meta.url), 'utf8');
    const spec = /from '([^']+)'/.exec(script)![1]!;
    expect(new URL(spec, `https://gw.example${ASSET_PREFIX}guacamole.js`).pathname).toBe(`${GUACAMOLE_PREFIX}guacamole-common.js`);
  });
});

describe('guacamolePageBody', () => {
  const body = guacamolePageBody({ title: 'ada <desk>', wsPath: '/s/ns/desk/_panalysis/guac?x="1"', token: 'tok"en<' });

  it('escapes what it is given and carries the tunnel path and token as data', () => {
    expect(body).toContain('<h1>ada &lt;desk&gt;</h1>');
    expect(body).toContain('data-ws="/s/ns/desk/_panalysis/guac?x=&quot;1&quot;"');
    expect(body).toContain('data-token="tok&quot;en&lt;"');
  });

  it('has no inline script or style, only the module script and stylesheet of the gateway', () => {
    expect(body.match(/<script[^>]*>/g)).toEqual([`<script type="module" src="${ASSET_PREFIX}guacamole.js">`]);
    expect(body).not.toMatch(/style=|<style|on[a-z]+=/);
    expect(body).toContain(`<link rel="stylesheet" href="${ASSET_PREFIX}desktop.css">`);
    expect(body).toContain('<span id="status"');
  });
});
