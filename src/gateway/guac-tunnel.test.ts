// SPDX-License-Identifier: Apache-2.0
/**
 * The tunnel against a fake guacd replaying the handshake of "The Guacamole protocol",
 * Apache Guacamole Manual v1.5.5, section "Handshake phase", with the `args` list guacd
 * 1.5.5 sends for `vnc` (`GUAC_VNC_CLIENT_ARGS` of src/protocols/vnc/settings.c, every
 * optional feature built in, as in the guacamole/guacd image), and the browser played by a
 * `ws` client with the subprotocol `guacamole`.
 */
import fc from 'fast-check';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { GUAC_VERSIONS, handshakeReply } from './guac-handshake.ts';
import { encodeInstruction, encodeInstructions, GuacParser, parseInstructions } from './guac-protocol.ts';
import { sortBrowserInstructions, tunnelGuacamole } from './guac-tunnel.ts';
import type { GuacTunnelOptions } from './guac-tunnel.ts';

const VNC_ARGS_1_5 = [
  'VERSION_1_5_0', 'hostname', 'port', 'read-only', 'encodings', 'username', 'password', 'swap-red-blue', 'color-depth',
  'cursor', 'autoretry', 'clipboard-encoding', 'dest-host', 'dest-port', 'enable-audio', 'audio-servername',
  'reverse-connect', 'listen-timeout', 'enable-sftp', 'sftp-hostname', 'sftp-host-key', 'sftp-port', 'sftp-username',
  'sftp-password', 'sftp-private-key', 'sftp-passphrase', 'sftp-directory', 'sftp-root-directory',
  'sftp-server-alive-interval', 'sftp-disable-download', 'sftp-disable-upload', 'recording-path', 'recording-name',
  'recording-exclude-output', 'recording-exclude-mouse', 'recording-include-keys', 'create-recording-path',
  'disable-copy', 'disable-paste', 'wol-send-packet', 'wol-mac-addr', 'wol-broadcast-addr', 'wol-udp-port',
  'wol-wait-time', 'force-lossless',
];
const READY = '5.ready,37.$260d01da-779b-4ee9-afc1-c16bae885cc7;';
const PASSWORD = 's3cret-vnc';
/** What guacd draws first, with a name outside the BMP (lengths differ between the two sides). */
const FIRST_FRAME: string[][] = [
  ['name', 'Desktop 🖥 of ada'],
  ['size', '0', '1280', '800'],
  ['sync', '1700000000000', '0'],
];

type Behaviour = 'normal' | 'error-on-select' | 'vnc-unreachable' | 'silent';

interface FakeGuacd {
  server: Server;
  port: number;
  /** Instructions received, per connection. */
  received: string[][][];
  sockets: Socket[];
  ended: Promise<void>;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakeGuacd(behaviour: Behaviour): Promise<FakeGuacd> {
  const fake = { received: [], sockets: [] } as unknown as FakeGuacd;
  let endedResolve!: () => void;
  fake.ended = new Promise((r) => (endedResolve = r));
  fake.server = createServer((sock) => {
    fake.sockets.push(sock);
    const got: string[][] = [];
    fake.received.push(got);
    const parser = new GuacParser();
    sock.on('end', () => {
      endedResolve();
      sock.end();
    });
    sock.on('error', () => {});
    sock.on('data', (chunk) => {
      for (const ins of parser.push(chunk)) {
        got.push(ins);
        if (behaviour === 'silent') continue;
        // guacd 1.5.5 src/guacd/connection.c: a select it cannot serve.
        if (ins[0] === 'select' && behaviour === 'error-on-select') sock.write(encodeInstruction(['error', 'No such connection.', String(0x0204)]));
        else if (ins[0] === 'select') sock.write(encodeInstruction(['args', ...VNC_ARGS_1_5]));
        else if (ins[0] === 'connect' && behaviour === 'vnc-unreachable') {
          // guacd 1.5.5 answers ready, then guac_client_abort() reports the VNC failure and closes.
          sock.write(READY + encodeInstruction(['error', 'Aborted. See logs.', String(0x0207)]));
          sock.end();
        } else if (ins[0] === 'connect') {
          // Ready and the first frame in one stream, cut at every byte.
          const bytes = Buffer.from(READY + encodeInstructions(FIRST_FRAME));
          for (let i = 0; i < bytes.length; i += 7) sock.write(bytes.subarray(i, i + 7));
        }
      }
    });
  });
  await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', r));
  fake.port = (fake.server.address() as AddressInfo).port;
  cleanups.push(() => {
    for (const s of fake.sockets) s.destroy();
    return new Promise((r) => fake.server.close(() => r()));
  });
  return fake;
}

interface Browser {
  ws: WebSocket;
  messages: string[];
  closed: Promise<{ code: number; reason: string }>;
  result: Promise<{ reason: string }>;
  next: (n: number) => Promise<string[]>;
}

/** A gateway-side WebSocket server running the tunnel to `guacdPort`, and a browser connected to it. */
async function openBrowser(guacdPort: number, options: GuacTunnelOptions = {}): Promise<Browser> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: (p) => (p.has('guacamole') ? 'guacamole' : false) });
  await new Promise<void>((r) => wss.once('listening', r));
  let resultResolve!: (v: Promise<{ reason: string }>) => void;
  const result = new Promise<{ reason: string }>((r) => (resultResolve = r));
  wss.on('connection', (sock) => {
    resultResolve(
      tunnelGuacamole(
        sock,
        { host: '127.0.0.1', port: guacdPort, connection: { protocol: 'vnc', hostname: '127.0.0.1', port: 5901, password: PASSWORD }, display: { width: 1280, height: 800, dpi: 96, timezone: 'Europe/Berlin' } },
        { handshakeTimeoutMs: 1000, ...options },
      ),
    );
  });
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/tunnel?token=x`, 'guacamole');
  const messages: string[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (d) => {
    messages.push(d.toString());
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
  const next = async (n: number) => {
    while (messages.length < n) await new Promise<void>((r) => waiters.push(r));
    return messages.slice(0, n);
  };
  cleanups.push(() => {
    ws.terminate();
    for (const c of wss.clients) c.terminate();
    return new Promise((r) => wss.close(() => r()));
  });
  return { ws, messages, closed, result, next };
}

/** All instructions the browser received after the uuid, each message parsed on its own (whole instructions only). */
function instructionsOf(messages: string[]): string[][] {
  return messages.slice(1).flatMap((m) => parseInstructions(m, 'utf16'));
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

describe('tunnelGuacamole', () => {
  it('does the handshake with the password in its place, then sends the uuid and whole instructions', async () => {
    const guacd = await fakeGuacd('normal');
    const b = await openBrowser(guacd.port);
    await until(() => instructionsOf(b.messages).length === FIRST_FRAME.length);

    const got = guacd.received[0]!;
    expect(got.map((i) => i[0])).toEqual(['select', 'size', 'audio', 'video', 'image', 'timezone', 'connect']);
    expect(got[0]).toEqual(['select', 'vnc']);
    expect(got[1]).toEqual(['size', '1280', '800', '96']);
    expect(got[5]).toEqual(['timezone', 'Europe/Berlin']);
    const connect = got[6]!.slice(1);
    expect(connect).toHaveLength(VNC_ARGS_1_5.length);
    expect(connect[0]).toBe('VERSION_1_5_0');
    expect(connect[VNC_ARGS_1_5.indexOf('hostname')]).toBe('127.0.0.1');
    expect(connect[VNC_ARGS_1_5.indexOf('port')]).toBe('5901');
    expect(connect[VNC_ARGS_1_5.indexOf('password')]).toBe(PASSWORD);
    expect(connect[VNC_ARGS_1_5.indexOf('sftp-password')]).toBe('');
    expect(connect.filter((v) => v !== '')).toHaveLength(4);

    expect(b.messages[0]).toMatch(/^0\.,36\.[0-9a-f-]{36};$/);
    expect(instructionsOf(b.messages)).toEqual(FIRST_FRAME);
    expect(b.messages.join('')).not.toContain(PASSWORD);
    expect(b.messages.join('')).not.toContain('ready');
    // guacamole-common-js 1.5 counts UTF-16 code units: the emoji is two.
    expect(b.messages.join('')).toContain('17.Desktop 🖥 of ada');
  });

  it('echoes pings, relays input and calls onInput at most once a second', async () => {
    let inputs = 0;
    const guacd = await fakeGuacd('normal');
    const b = await openBrowser(guacd.port, { onInput: () => inputs++ });
    await b.next(1);
    b.ws.send('0.,4.ping,13.1700000000123;');
    b.ws.send(encodeInstructions([['mouse', '10', '20', '1'], ['key', '65', '1']], 'utf16'));
    b.ws.send(encodeInstruction(['key', '65', '0'], 'utf16'));
    b.ws.send(encodeInstruction(['clipboard', '0', 'text/plain'], 'utf16'));
    await until(() => b.messages.includes('0.,4.ping,13.1700000000123;'));
    await until(() => guacd.received[0]!.some((i) => i[0] === 'clipboard'));
    const after = guacd.received[0]!.slice(7);
    expect(after).toEqual([['mouse', '10', '20', '1'], ['key', '65', '1'], ['key', '65', '0'], ['clipboard', '0', 'text/plain']]);
    expect(inputs).toBe(1);
  });

  it('carries any text both ways unchanged, lengths rewritten for each side (no injection)', async () => {
    const guacd = await fakeGuacd('normal');
    const b = await openBrowser(guacd.port);
    await b.next(1 + 1);
    const values = fc.sample(fc.string({ unit: 'binary', maxLength: 30 }), { numRuns: 40, seed: 12 }).concat(['5.ready,1.x;', '😀;,.', '']);
    const fromBrowser = values.map((v, i) => ['blob', String(i), v]);
    b.ws.send(encodeInstructions(fromBrowser, 'utf16'));
    await until(() => guacd.received[0]!.filter((i) => i[0] === 'blob').length === values.length);
    expect(guacd.received[0]!.filter((i) => i[0] === 'blob')).toEqual(fromBrowser);

    const fromGuacd = values.map((v, i) => ['msg', String(i), v]);
    const seen = b.messages.length;
    const bytes = Buffer.from(encodeInstructions(fromGuacd));
    for (let i = 0; i < bytes.length; i += 5) guacd.sockets[0]!.write(bytes.subarray(i, i + 5));
    const later = () => b.messages.slice(seen).flatMap((m) => parseInstructions(m, 'utf16'));
    await until(() => later().length === values.length);
    expect(later()).toEqual(fromGuacd);
  });

  it('closes both sides when the browser sends select after the handshake', async () => {
    const guacd = await fakeGuacd('normal');
    const b = await openBrowser(guacd.port);
    await b.next(1);
    b.ws.send('6.select,3.ssh;');
    expect(await b.closed).toEqual({ code: 1008, reason: String(0x0300) });
    expect((await b.result).reason).toMatch(/browser sent "select" after the handshake/);
    await guacd.ended;
    expect(guacd.received[0]!.filter((i) => i[0] === 'select')).toHaveLength(1);
    expect(guacd.received[0]!.at(-1)).toEqual(['disconnect']);
  });

  it('refuses connect too', async () => {
    const guacd = await fakeGuacd('normal');
    const b = await openBrowser(guacd.port);
    await b.next(1);
    b.ws.send('7.connect,13.VERSION_1_5_0,9.evil.host;');
    expect((await b.closed).code).toBe(1008);
    expect(guacd.received[0]!.filter((i) => i[0] === 'connect')).toHaveLength(1);
  });

  it("reports guacd's error during the handshake with its message and status code", async () => {
    const guacd = await fakeGuacd('error-on-select');
    const b = await openBrowser(guacd.port);
    expect((await b.result).reason).toBe('guacd refused the connection: No such connection. (status 516)');
    expect(await b.closed).toEqual({ code: 1011, reason: '516' });
    expect(b.messages).toEqual([]);
  });

  it("relays guacd's error after the handshake to the browser and reports it", async () => {
    const guacd = await fakeGuacd('vnc-unreachable');
    const b = await openBrowser(guacd.port);
    expect((await b.result).reason).toBe('guacd error 519: Aborted. See logs.');
    expect(await b.closed).toEqual({ code: 1000, reason: '0' });
    expect(instructionsOf(b.messages)).toEqual([['error', 'Aborted. See logs.', '519']]);
  });

  it('reports an unreachable guacd and a guacd that never answers', async () => {
    const guacd = await fakeGuacd('silent');
    const down = createServer();
    await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
    const downPort = (down.address() as AddressInfo).port;
    await new Promise((r) => down.close(r));

    const b1 = await openBrowser(downPort);
    expect((await b1.result).reason).toMatch(/^cannot reach guacd: ECONNREFUSED/);
    expect((await b1.closed).reason).toBe(String(0x0207));

    const b2 = await openBrowser(guacd.port, { handshakeTimeoutMs: 200 });
    expect((await b2.result).reason).toBe('guacd did not finish the handshake within 200 ms');
    expect((await b2.closed).reason).toBe(String(0x0202));
  });

  it('closes the browser cleanly when guacd ends, and guacd when the browser leaves', async () => {
    const guacd = await fakeGuacd('normal');
    const b = await openBrowser(guacd.port);
    await b.next(2);
    guacd.sockets[0]!.end();
    expect(await b.closed).toEqual({ code: 1000, reason: '0' });
    expect((await b.result).reason).toBe('guacd closed the connection');

    const guacd2 = await fakeGuacd('normal');
    const b2 = await openBrowser(guacd2.port);
    await b2.next(2);
    b2.ws.close(1000);
    expect((await b2.result).reason).toBe('the browser closed the tunnel');
    await guacd2.ended;
    expect(guacd2.received[0]!.at(-1)).toEqual(['disconnect']);
  });
});

describe('sortBrowserInstructions', () => {
  it('keeps internal instructions from guacd, echoes pings, flags input, and refuses a batch with select', () => {
    expect(sortBrowserInstructions([['', 'ping', '1'], ['', 'other'], ['mouse', '1', '2', '0'], ['size', '800', '600']])).toEqual({
      forward: [['mouse', '1', '2', '0'], ['size', '800', '600']],
      echo: [['', 'ping', '1']],
      input: true,
    });
    expect(sortBrowserInstructions([['sync', '1']])).toEqual({ forward: [['sync', '1']], echo: [], input: false });
    expect(sortBrowserInstructions([['key', '65', '1'], ['argv', '0', 'text/plain', 'password']]).refused).toBe('argv');
  });
});

describe('handshakeReply', () => {
  const conn = { protocol: 'vnc', hostname: 'h', port: 5901, password: 'p' } as const;
  const display = { width: 800, height: 600, dpi: 96, timezone: 'UTC' };

  it('answers a guacd without version negotiation (1.0.0) in the fixed order, without timezone', () => {
    const reply = handshakeReply(['hostname', 'port', 'password', 'read-only'], conn, display);
    expect(reply.map((i) => i[0])).toEqual(['size', 'audio', 'video', 'image', 'connect']);
    expect(reply.at(-1)).toEqual(['connect', 'h', '5901', 'p', '']);
  });

  it('answers with the version guacd offered when we speak it, else with our latest', () => {
    expect(handshakeReply(['VERSION_1_1_0', 'password'], conn, display).at(-1)).toEqual(['connect', 'VERSION_1_1_0', 'p']);
    expect(handshakeReply(['VERSION_1_9_0', 'password'], conn, display).at(-1)).toEqual(['connect', GUAC_VERSIONS.at(-1), 'p']);
    expect(handshakeReply(['VERSION_1_0_0', 'password'], conn, display).map((i) => i[0])).not.toContain('timezone');
  });
});
