// SPDX-License-Identifier: Apache-2.0
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { vncAuthResponse } from './des.ts';
import { bridgeVnc } from './vnc-bridge.ts';
import type { BridgeEnd, BridgeOptions } from './vnc-bridge.ts';
import { ClientMessageScanner } from './vnc-bridge-messages.ts';
import { FrameReader, rawBytes } from './vnc-bridge-reader.ts';

const PASSWORD = 'S3cr3tPw';
const SERVER_INIT = Buffer.concat([Buffer.from([3, 32, 2, 88]), Buffer.alloc(16, 7), Buffer.from([0, 0, 0, 4]), Buffer.from('fake')]);

/** What the fake desktop saw. */
interface DesktopLog { challenge?: Buffer; response?: Buffer; clientInit?: Buffer; after: Buffer[]; socket?: WebSocket }

/** A fake RFB 3.8 server behind a WebSocket, as websockify + Xvnc would be. */
async function fakeDesktop(o: { types?: number[]; password?: string; silent?: boolean } = {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (p) => (p.has('binary') ? 'binary' : false) });
  await new Promise((r) => wss.once('listening', r));
  const seen: DesktopLog = { after: [] };
  wss.on('connection', (ws) => {
    seen.socket = ws;
    if (o.silent) return;
    const r = new FrameReader(ws);
    void (async () => {
      ws.send(Buffer.from('RFB 003.008\n'));
      expect((await r.read(12)).toString()).toBe('RFB 003.008\n');
      const types = o.types ?? [2];
      ws.send(Buffer.from([types.length, ...types]));
      if ((await r.u8()) !== 2) return;
      const challenge = randomBytes(16);
      seen.challenge = challenge;
      ws.send(challenge);
      seen.response = Buffer.from(await r.read(16));
      if (!seen.response.equals(vncAuthResponse(o.password ?? PASSWORD, challenge))) {
        const reason = Buffer.from('Authentication failure');
        ws.send(Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, reason.length]), reason]));
        ws.close();
        return;
      }
      ws.send(Buffer.alloc(4));
      seen.clientInit = Buffer.from(await r.read(1));
      ws.send(SERVER_INIT);
      const rest = r.detach();
      if (rest.length > 0) seen.after.push(rest);
      ws.on('message', (d) => seen.after.push(rawBytes(d)));
    })().catch(() => ws.terminate());
  });
  return { wss, seen, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/` };
}

/** A gateway stand-in: every WebSocket it accepts is bridged to `url`. */
async function gateway(url: string, opts: BridgeOptions = {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  const ends: Array<Promise<BridgeEnd>> = [];
  wss.on('connection', (ws) => ends.push(bridgeVnc(ws, { url, password: PASSWORD }, opts)));
  return { wss, ends, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/` };
}

/** A browser: connects, keeps every byte it receives and how the socket closed. */
async function browser(url: string) {
  const ws = new WebSocket(url);
  const received: Buffer[] = [];
  const reader = new FrameReader(ws);
  ws.on('message', (d) => received.push(rawBytes(d)));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise((r) => ws.once('open', r));
  return { ws, reader, received, closed };
}

/** The browser's side of the None handshake through the bridge, up to ServerInit. */
async function loginAsBrowser(b: Awaited<ReturnType<typeof browser>>) {
  expect((await b.reader.read(12)).toString()).toBe('RFB 003.008\n');
  b.ws.send(Buffer.from('RFB 003.008\n'));
  expect([...(await b.reader.read(2))]).toEqual([1, 1]);
  b.ws.send(Buffer.from([1]));
  expect([...(await b.reader.read(4))]).toEqual([0, 0, 0, 0]);
  b.ws.send(Buffer.from([1]));
  expect(await b.reader.read(SERVER_INIT.length)).toEqual(SERVER_INIT);
}

const until = async (check: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    for (const c of s.clients) c.terminate();
    await new Promise((r) => s.close(r));
  }
});

async function setup(desktop: Parameters<typeof fakeDesktop>[0] = {}, opts: BridgeOptions = {}) {
  const d = await fakeDesktop(desktop);
  const g = await gateway(d.url, opts);
  servers.push(d.wss, g.wss);
  return { d, g, b: await browser(g.url) };
}

describe('bridgeVnc', () => {
  it('logs in with VNC authentication and gives the browser security type None', async () => {
    const logs: unknown[] = [];
    const logger = { info: (...a: unknown[]) => logs.push(a), warn: (...a: unknown[]) => logs.push(a) };
    const { d, g, b } = await setup({}, { logger });
    await loginAsBrowser(b);
    expect(d.seen.response).toEqual(vncAuthResponse(PASSWORD, d.seen.challenge!));
    expect(d.seen.clientInit).toEqual(Buffer.from([1]));
    b.ws.close();
    const end = await g.ends[0]!;
    expect(end).toEqual({ reason: 'the browser closed the connection', bytesUp: 1, bytesDown: SERVER_INIT.length });
    expect(JSON.stringify(logs)).not.toContain(PASSWORD);
    expect(Buffer.concat(b.received).includes(PASSWORD)).toBe(false);
  });

  it('pipes bytes unchanged both ways after the handshake', async () => {
    const { d, g, b } = await setup();
    await loginAsBrowser(b);
    const up = [Buffer.from([3, 0, 0, 0, 0, 0, 3, 32, 2, 88]), Buffer.from([4, 1, 0, 0, 0, 0, 0, 0x61]), randomBytes(5000)];
    for (const chunk of up) b.ws.send(chunk);
    const down = randomBytes(300_000);
    d.seen.socket!.send(down.subarray(0, 100_000));
    d.seen.socket!.send(down.subarray(100_000));
    expect(await b.reader.read(down.length)).toEqual(down);
    await until(() => Buffer.concat(d.seen.after).length >= 5018);
    expect(Buffer.concat(d.seen.after)).toEqual(Buffer.concat(up));
    d.seen.socket!.close(1000);
    expect((await b.closed).code).toBe(1000);
    expect(await g.ends[0]!).toMatchObject({ bytesUp: 1 + 5018, bytesDown: SERVER_INIT.length + down.length });
  });

  it('passes a stream larger than its queue limit whole, pausing the desktop while the browser catches up', async () => {
    const { d, b } = await setup();
    await loginAsBrowser(b);
    const down = randomBytes(12 * 1024 * 1024);
    for (let i = 0; i < down.length; i += 256 * 1024) d.seen.socket!.send(down.subarray(i, i + 256 * 1024));
    expect((await b.reader.read(down.length)).equals(down)).toBe(true);
  });

  it('stops piping as soon as the caller closes the browser socket, before its closing handshake ends', async () => {
    const d = await fakeDesktop();
    const g = await gateway(d.url);
    servers.push(d.wss, g.wss);
    let server: WebSocket | undefined;
    g.wss.on('connection', (ws) => { server = ws; });
    const b = await browser(g.url);
    await loginAsBrowser(b);
    b.ws.pause(); // the browser does not answer the close frame
    server!.close(1008, 'access revoked');
    d.seen.socket!.send(Buffer.from('after'));
    expect(await g.ends[0]!).toMatchObject({ reason: 'the browser connection was closed' });
    await until(() => d.seen.socket!.readyState === WebSocket.CLOSED);
  });

  it('closes the browser with 1011 and the server reason on a wrong password', async () => {
    const { g, b } = await setup({ password: 'other' });
    const closed = await b.closed;
    expect(closed).toEqual({ code: 1011, reason: 'VNC authentication failed: Authentication failure' });
    expect(b.received).toEqual([]);
    expect((await g.ends[0]!).reason).toBe('VNC authentication failed: Authentication failure');
  });

  it.each([
    ['only None', [1], '1 (None)'],
    ['only unsupported types', [18, 19], '18 (TLS), 19 (VeNCrypt)'],
  ])('refuses a desktop that offers %s', async (_name, types, named) => {
    const { g, b } = await setup({ types });
    const closed = await b.closed;
    expect(closed.code).toBe(1011);
    expect(closed.reason).toContain(named);
    expect((await g.ends[0]!).reason).toBe(`the desktop offers security types ${named}; the bridge logs in only with 2 (VncAuth)`);
  });

  it('calls onInput for key and pointer events, not for update requests, at most once a second', async () => {
    let inputs = 0;
    const { d, b } = await setup({}, { onInput: () => { inputs++; } });
    await loginAsBrowser(b);
    b.ws.send(Buffer.from([3, 1, 0, 0, 0, 0, 3, 32, 2, 88]));
    await until(() => d.seen.after.length === 1);
    expect(inputs).toBe(0);
    b.ws.send(Buffer.from([5, 1, 0, 10, 0, 20, 4, 0, 0, 0, 0, 0, 0, 0x61]));
    await until(() => d.seen.after.length === 2);
    expect(inputs).toBe(1);
    b.ws.send(Buffer.from([4, 0, 0, 0, 0, 0, 0, 0x61]));
    await until(() => d.seen.after.length === 3);
    expect(inputs).toBe(1);
  });

  it('gives up after the handshake timeout', async () => {
    const { g, b } = await setup({ silent: true }, { handshakeTimeoutMs: 200 });
    const closed = await b.closed;
    expect(closed).toEqual({ code: 1011, reason: 'the desktop handshake did not finish within 200 ms' });
    expect(await g.ends[0]!).toEqual({ reason: 'the desktop handshake did not finish within 200 ms', bytesUp: 0, bytesDown: 0 });
  });

  it('closes a browser that floods the handshake with 1002', async () => {
    const { g, b } = await setup();
    b.ws.send(Buffer.alloc(70_000, 0x52));
    const closed = await b.closed;
    expect(closed.code).toBe(1002);
    expect((await g.ends[0]!).reason).toBe('the browser sent 70000 bytes during the handshake');
  });

  it('closes the browser with 1011 when the desktop cannot be reached', async () => {
    const g = await gateway('ws://127.0.0.1:1/');
    servers.push(g.wss);
    const b = await browser(g.url);
    expect((await b.closed).code).toBe(1011);
    expect((await g.ends[0]!).reason).toMatch(/^desktop connection failed: /);
  });

  it('resolves without throwing on a malformed desktop address', async () => {
    const g = await gateway('not a url');
    servers.push(g.wss);
    const b = await browser(g.url);
    expect((await b.closed).code).toBe(1011);
    expect((await g.ends[0]!).reason).toMatch(/^bad desktop address: /);
  });
});

describe('ClientMessageScanner', () => {
  const messages: Record<string, number[]> = {
    SetPixelFormat: [0, ...Array<number>(19).fill(0)],
    SetEncodings: [2, 0, 0, 2, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x21],
    FramebufferUpdateRequest: [3, 0, 0, 0, 0, 0, 1, 0, 1, 0],
    ClientCutText: [6, 0, 0, 0, 0, 0, 0, 3, 0x61, 0x62, 0x63],
    'extended ClientCutText': [6, 0, 0, 0, 0xff, 0xff, 0xff, 0xfe, 9, 9],
    ClientFence: [248, 0, 0, 0, 0, 0, 0, 0, 2, 1, 2],
    EnableContinuousUpdates: [150, 1, 0, 0, 0, 0, 1, 0, 1, 0],
    KeyEvent: [4, 1, 0, 0, 0, 0, 0, 0x61],
    PointerEvent: [5, 1, 0, 1, 0, 2],
    'extended PointerEvent': [5, 0x81, 0, 1, 0, 2, 0],
    'QEMU key event': [255, 0, 0, 1, 0, 0, 0, 0x61, 0, 0, 0, 30],
  };
  const inputs = new Set(['KeyEvent', 'PointerEvent', 'extended PointerEvent', 'QEMU key event']);

  it.each(Object.keys(messages))('finds the end of a %s, fed one byte at a time', (name) => {
    let calls = 0;
    const s = new ClientMessageScanner(() => { calls++; });
    const key = messages.KeyEvent!;
    for (const byte of [...messages[name]!, ...key]) s.feed(Buffer.from([byte]));
    expect(s.stopped).toBeUndefined();
    expect(calls).toBe(inputs.has(name) ? 2 : 1);
  });

  it('calls once per chunk, however many input messages it holds', () => {
    let calls = 0;
    const s = new ClientMessageScanner(() => { calls++; });
    s.feed(Buffer.from([...messages.KeyEvent!, ...messages.PointerEvent!, ...messages.KeyEvent!]));
    expect(calls).toBe(1);
  });

  it('stops at an unknown type and counts nothing after it', () => {
    let calls = 0;
    const s = new ClientMessageScanner(() => { calls++; });
    s.feed(Buffer.from([...messages.FramebufferUpdateRequest!, 77, ...messages.KeyEvent!]));
    s.feed(Buffer.from(messages.KeyEvent!));
    expect([s.stopped, calls]).toEqual([77, 0]);
  });
});
