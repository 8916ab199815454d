// SPDX-License-Identifier: Apache-2.0
/**
 * The Guacamole page in a real browser: headless Chromium loads the page under the
 * gateway's CSP, guacamole-common-js 1.5 connects through `tunnelGuacamole` with a one-time
 * token to a fake guacd (the handshake of the protocol documentation, then a 640×480 screen
 * and a `sync`), and mouse and keyboard reach guacd. Skipped without Chromium.
 */
import { existsSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../../test/integration/browser.ts';
import { PAGE_SECURITY_HEADERS } from './http.ts';
import { serveGatewayAsset } from './novnc.ts';
import { pageHtml } from './pages.ts';
import { guacamolePageBody, serveGuacamoleAsset } from './guac-page.ts';
import { encodeInstructions, GuacParser } from './guac-protocol.ts';
import { ConnectionTokens, issueConnectionToken } from './guac-tokens.ts';
import { tunnelGuacamole } from './guac-tunnel.ts';

declare const document: { getElementById(id: string): { textContent: string } | null };

const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const key = new Uint8Array(32).fill(7);
const who = { session: 'ns/desk', sessionUid: 'u1' };
const received: string[][] = [];
const refusals: string[] = [];
let guacd: Server;
let http: HttpServer;
let browser: Browser;
let base = '';

beforeAll(async () => {
  if (!existsSync(chromium)) return;
  guacd = createServer((sock) => {
    const parser = new GuacParser();
    sock.on('error', () => {});
    sock.on('data', (chunk) => {
      for (const ins of parser.push(chunk)) {
        received.push(ins);
        if (ins[0] === 'select') sock.write(encodeInstructions([['args', 'VERSION_1_5_0', 'hostname', 'port', 'password']]));
        if (ins[0] === 'connect') sock.write(encodeInstructions([['ready', '$id'], ['size', '0', '640', '480'], ['sync', '1', '0']]));
      }
    });
  });
  await new Promise<void>((r) => guacd.listen(0, '127.0.0.1', r));
  const tokens = new ConnectionTokens(key);
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => (p.has('guacamole') ? 'guacamole' : false) });
  http = createHttpServer(async (req, res) => {
    const path = req.url ?? '/';
    if (serveGuacamoleAsset(path, res) || serveGatewayAsset(path, res)) return;
    const token = await issueConnectionToken(key, { ...who, user: 'ada' });
    res.writeHead(200, { ...PAGE_SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8' });
    res.end(pageHtml({ title: 'desk', body: guacamolePageBody({ title: 'desk', wsPath: '/tunnel', token }) }));
  });
  http.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, async (ws) => {
      const token = new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? '';
      const ok = await tokens.consume(token, who);
      if ('error' in ok) {
        refusals.push(ok.error);
        ws.close(1008, String(0x0301));
        return;
      }
      const port = (guacd.address() as AddressInfo).port;
      void tunnelGuacamole(ws, { host: '127.0.0.1', port, connection: { protocol: 'vnc', hostname: '127.0.0.1', port: 5901, password: 'pw' }, display: { width: 1024, height: 768, dpi: 96 } });
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  http?.closeAllConnections();
  await new Promise((r) => (http ? http.close(r) : r(undefined)));
  await new Promise((r) => (guacd ? guacd.close(r) : r(undefined)));
});

describe.skipIf(!existsSync(chromium))('the Guacamole page in Chromium', () => {
  it('connects under the CSP, shows Connected, and sends mouse and keyboard to guacd', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    await page.goto(base + '/');
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'Connected', undefined, { timeout: 15_000 });
    // The display takes its size from guacd's first instructions; a click before that can miss it, so click until one arrives.
    await expect.poll(async () => {
      await page.mouse.click(50, 120);
      return received.some((i) => i[0] === 'mouse');
    }, { timeout: 10_000, interval: 500 }).toBe(true);
    await page.keyboard.press('a');
    await expect.poll(() => received.filter((i) => i[0] === 'key').length, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    expect(received.filter((i) => i[0] === 'key').map((i) => i.slice(1))).toEqual([['97', '1'], ['97', '0']]);
    expect(received.some((i) => i[0] === 'sync')).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);
});
