// SPDX-License-Identifier: Apache-2.0
/**
 * The gateway's VNC bridge between a browser-like RFB client and a real desktop (TigerVNC's Xvnc
 * with VNC authentication behind websockify): the client logs in with security type None, gets a
 * picture of the desktop, and nothing that reaches it holds the VNC password. Skips, saying what is
 * missing, on a host without the programs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { bridgeVnc } from '../../src/gateway/vnc-bridge.ts';
import type { BridgeEnd } from '../../src/gateway/vnc-bridge.ts';
import { FrameReader } from '../../src/gateway/vnc-bridge-reader.ts';
import { send } from '../../src/gateway/http.ts';
import { desktopPage, serveGatewayAsset, serveNoVncAsset } from '../../src/gateway/novnc.ts';
import { ASSET_PREFIX } from '../../src/gateway/pages.ts';
import { launchBrowser, screenshotPath } from './browser.ts';
import { blank, encodePng, rfbHandshake, screenshot } from './rfb.ts';
import { startVncServer, vncServerMissing } from './vnc-server.ts';
import type { VncServer } from './vnc-server.ts';

const PASSWORD = 'Br1dgePw';
const skipReason = vncServerMissing();

/** A stand-in for the gateway: bridges every WebSocket it accepts to the desktop with `password`. */
async function bridgeServer(url: string, password: string, onInput: () => void, logs: string[]) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  const ends: Array<Promise<BridgeEnd>> = [];
  const logger = { info: (m: string, kv?: object) => logs.push(`${m} ${JSON.stringify(kv)}`), warn: (m: string, kv?: object) => logs.push(`${m} ${JSON.stringify(kv)}`) };
  wss.on('connection', (ws) => ends.push(bridgeVnc(ws, { url, password }, { onInput, logger })));
  return { wss, ends, port: (wss.address() as AddressInfo).port };
}

/**
 * The desktop page as the gateway serves it (with its page security headers, so the CSP applies),
 * the noVNC and gateway assets, and the bridge on `/ws`.
 */
async function pageServer(url: string, password: string, onInput: () => void) {
  const wss = new WebSocketServer({ noServer: true });
  const server: HttpServer = createHttpServer((req, res) => {
    const path = req.url ?? '/';
    if (path === '/desk') return send(res, 200, desktopPage({ title: 'bridge-test', wsPath: '/ws', assetBase: ASSET_PREFIX }));
    if (!serveNoVncAsset(path, res) && !serveGatewayAsset(path, res)) send(res, 404, 'not found');
  });
  server.on('upgrade', (req, socket, head) => {
    if (req.url !== '/ws') return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => void bridgeVnc(ws, { url, password }, { onInput }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = async (): Promise<void> => {
    for (const c of wss.clients) c.terminate();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return { close, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/desk` };
}

/** A loopback TCP proxy to `port` that keeps every byte sent back towards the client. */
async function recordingProxy(port: number) {
  const toClient: Buffer[] = [];
  const server: Server = createServer((client) => {
    const up = connect(port, '127.0.0.1');
    up.on('data', (d: Buffer) => toClient.push(d));
    client.pipe(up).pipe(client);
    for (const s of [client, up]) s.on('error', () => undefined);
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, toClient, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

describe('VNC bridge against TigerVNC + websockify', () => {
  let desktop: VncServer | undefined;
  let gateway: Awaited<ReturnType<typeof bridgeServer>>;
  let wrongGateway: Awaited<ReturnType<typeof bridgeServer>>;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  const logs: string[] = [];
  let inputs = 0;

  beforeEach((ctx) => {
    if (skipReason) ctx.skip(skipReason);
  });

  beforeAll(async () => {
    if (skipReason) return;
    desktop = await startVncServer(PASSWORD, 'bridge-test');
    gateway = await bridgeServer(desktop.url, PASSWORD, () => { inputs++; }, logs);
    wrongGateway = await bridgeServer(desktop.url, 'not-it', () => undefined, logs);
    proxy = await recordingProxy(gateway.port);
  });

  afterAll(async () => {
    for (const s of [gateway?.wss, wrongGateway?.wss]) {
      if (!s) continue;
      for (const c of s.clients) c.terminate();
      await new Promise((r) => s.close(r));
    }
    if (proxy) await new Promise((r) => proxy.server.close(r));
    await desktop?.stop();
  });

  it('gives the browser an RFB 3.8 login with security type None and the real desktop behind it', async () => {
    const h = await rfbHandshake(proxy.url, '');
    expect(h).toEqual({ serverVersion: 'RFB 003.008', securityTypes: [1], width: 800, height: 600, name: 'bridge-test' });
  });

  it('passes a full-screen picture that is not blank', async () => {
    const s = await screenshot(proxy.url, '');
    mkdirSync('test/results', { recursive: true });
    writeFileSync('test/results/vnc-bridge-screenshot.png', encodePng(s));
    expect([s.width, s.height, s.rgba.length]).toEqual([800, 600, 800 * 600 * 4]);
    expect(blank(s)).toBe(false);
    const corner = (600 * 800 - 1) * 4; // the root window's steelblue, away from the xterm
    expect([...s.rgba.subarray(corner, corner + 4)]).toEqual([70, 130, 180, 255]);
    const ends = await Promise.all(gateway.ends);
    expect(ends.at(-1)).toMatchObject({ reason: 'the browser closed the connection' });
    expect(ends.at(-1)!.bytesDown).toBeGreaterThan(800 * 600 * 4);
  });

  it('reports key and pointer input from the browser', async () => {
    const ws = new WebSocket(proxy.url);
    const r = new FrameReader(ws);
    await new Promise((ok) => ws.once('open', ok));
    await r.read(12);
    ws.send(Buffer.from('RFB 003.008\n'));
    await r.read(2);
    ws.send(Buffer.from([1]));
    expect(await r.u32()).toBe(0);
    ws.send(Buffer.from([1]));
    await r.read(24); // ServerInit up to the name length
    const before = inputs;
    ws.send(Buffer.from([5, 0, 0, 100, 0, 100]));
    await expect.poll(() => inputs, { timeout: 5_000 }).toBe(before + 1);
    ws.close();
  });

  it('never lets the VNC password reach the browser or the log', async () => {
    const wire = Buffer.concat(proxy.toClient);
    expect(wire.length).toBeGreaterThan(800 * 600 * 4);
    expect(wire.includes(Buffer.from(PASSWORD, 'latin1'))).toBe(false);
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.join('\n')).not.toContain(PASSWORD);
  });

  it('shows the desktop in Chromium through noVNC and the desktop page, and typed keys reach it', async () => {
    const site = await pageServer(desktop!.url, PASSWORD, () => { inputs++; });
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      // a missing resource is named by its response below; the console only says "404"
      page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text()); });
      page.on('response', (r) => { if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) problems.push(`${r.status()} ${r.url()}`); });
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(site.url);
      await expect.poll(() => page.locator('#status').textContent(), { timeout: 30_000 }).toBe('Connected');
      const canvas = page.locator('#screen canvas');
      await expect.poll(() => canvas.evaluate((c: any) => {
        const d: Uint8ClampedArray = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const seen = new Set<number>();
        for (let i = 0; i < d.length; i += 4) seen.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
        return seen.size;
      }), { timeout: 30_000 }).toBeGreaterThan(2);
      await page.screenshot({ path: screenshotPath('vnc-bridge-desktop-page') });
      expect(await page.evaluate(() => (globalThis as any).document.activeElement?.tagName)).toBe('CANVAS');
      const before = inputs;
      await page.keyboard.type('hello');
      await expect.poll(() => inputs, { timeout: 10_000 }).toBeGreaterThan(before);
      expect(await page.content()).not.toContain(PASSWORD);
      expect(problems).toEqual([]);
      await page.close();
    } finally {
      await browser.close();
      await site.close();
    }
  }, 120_000);

  it('closes the browser with 1011 and the desktop reason when the password is wrong', async () => {
    const url = `ws://127.0.0.1:${wrongGateway.port}/`;
    await expect(rfbHandshake(url, '')).rejects.toThrow(/^the server closed the connection \(code 1011: VNC authentication failed: \S/);
    expect((await wrongGateway.ends[0]!).reason).toMatch(/^VNC authentication failed: /);
  });
});
