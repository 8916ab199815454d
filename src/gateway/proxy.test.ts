// SPDX-License-Identifier: Apache-2.0
import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyHttp } from './proxy.ts';

const SECRET = 'jupyter-token-0123456789abcdef';
let upstream: Server;
let gateway: Server;
let upPort = 0;
let gwPort = 0;
const seen: Array<Record<string, unknown>> = [];

function listen(s: Server): Promise<number> {
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)));
}

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port: gwPort, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    }).on('error', reject).end();
  });
}

describe('the proxy to a session', () => {
  beforeAll(async () => {
    upstream = createServer((req, res) => {
      seen.push({ ...req.headers });
      const page = `<script id="jupyter-config-data" type="application/json">{"token": "${SECRET}"}</script>`;
      if (req.url === '/page') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'access-control-allow-origin': 'http://evil.example' }).end(page);
      else if (req.url === '/gz') res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' }).end(gzipSync(page));
      else if (req.url === '/full') res.writeHead(200, { 'content-type': 'text/html' }).end(`<html><body><p>lab</p>${page}</BODY></html>`);
      else if (req.url === '/json') res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      else res.socket?.destroy();
    });
    upPort = await listen(upstream);
    gateway = createServer((req, res) => proxyHttp(req, res, { host: '127.0.0.1', port: upPort, headers: { authorization: `token ${SECRET}` }, dropCookies: ['panalysis-session'], proto: 'https', scrub: SECRET, inject: '<script src="/n.js"></script>' }, (err) => res.writeHead(502).end(err.message)));
    gwPort = await listen(gateway);
  });
  afterAll(() => {
    upstream.close();
    gateway.close();
  });

  it('gives the session its token and takes it out of every page, compressed or not', async () => {
    const plain = await get('/page', { authorization: 'Bearer forged', cookie: 'panalysis-session=s; _xsrf=x' });
    expect(plain.status).toBe(200);
    expect(plain.body).toBe('<script id="jupyter-config-data" type="application/json">{"token": ""}</script><script src="/n.js"></script>');
    expect(plain.headers['access-control-allow-origin']).toBeUndefined();
    expect(seen.at(-1)).toMatchObject({ authorization: `token ${SECRET}`, cookie: '_xsrf=x', 'x-forwarded-proto': 'https' });
    const gz = await get('/gz');
    expect(gz.body).not.toContain(SECRET);
    expect(gz.headers['content-encoding']).toBeUndefined();
    expect((await get('/json')).body).toBe('{"ok":true}');
  });

  it('puts the notice script before the end of the body of pages, and nowhere else', async () => {
    const full = await get('/full');
    expect(full.body).toBe('<html><body><p>lab</p><script id="jupyter-config-data" type="application/json">{"token": ""}</script><script src="/n.js"></script></BODY></html>');
    expect(Number(full.headers['content-length'])).toBe(Buffer.byteLength(full.body));
    expect((await get('/json')).body).not.toContain('n.js');
  });

  it('answers with the caller\u2019s error page when the session does not answer', async () => {
    const r = await get('/hangup');
    expect(r.status).toBe(502);
  });
});
