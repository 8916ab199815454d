// SPDX-License-Identifier: Apache-2.0
/**
 * Proves the RFB client against a real TigerVNC server behind websockify on this host, the pair a
 * desktop session runs: handshake fields, a screenshot that is not blank, a wrong password refused.
 * Needs the Debian packages tigervnc-standalone-server, tigervnc-tools, websockify, xterm and
 * x11-xserver-utils; without them the file skips and says which command is missing.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { desEncryptBlock, vncAuthResponse } from '../../src/gateway/des.ts';
import { blank, encodePng, rfbHandshake, screenshot } from './rfb.ts';
import { freePorts } from '../../src/cluster/wait.ts';

const PASSWORD = 'Pa55word';
const NEEDED = ['Xvnc', 'vncpasswd', 'websockify', 'xsetroot', 'xterm'];
const missing = NEEDED.filter((cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0);
const skipReason = missing.length === 0 ? undefined
  : `${missing.join(', ')} not on PATH; install the Debian packages tigervnc-standalone-server tigervnc-tools websockify xterm x11-xserver-utils (scripts/preflight.sh does as root)`;

/** An X display number with neither a socket nor a lock file. */
function freeDisplay(): number {
  for (let d = 20 + (process.pid % 50); d < 200; d++) {
    if (!existsSync(`/tmp/.X11-unix/X${d}`) && !existsSync(`/tmp/.X${d}-lock`)) return d;
  }
  throw new Error('no free X display between :20 and :200');
}

/** Resolves once `port` on 127.0.0.1 accepts connections; rejects after `ms`. */
async function waitForPort(port: number, ms: number): Promise<void> {
  const { connect } = await import('node:net');
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('DES and the VNC authentication response', () => {
  it('encrypts the FIPS worked example and the all-zero-result vector', () => {
    const hex = (k: string, p: string) => desEncryptBlock(Buffer.from(k, 'hex'), Buffer.from(p, 'hex')).toString('hex');
    expect(hex('133457799bbcdff1', '0123456789abcdef')).toBe('85e813540f0ab405');
    expect(hex('0e329232ea6d0d73', '8787878787878787')).toBe('0000000000000000');
  });

  it('answers a challenge with DES under the bit-reversed password, as VNC servers check it', () => {
    // `openssl enc -des-ecb -K 0e86ceceeef64e26` (bit-reversed "password") of the bytes 00..0f
    const challenge = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
    expect(vncAuthResponse('password', challenge).toString('hex')).toBe('b866924125c8eebb9debc1db61c538e2');
    // only the first 8 bytes of a password count
    expect(vncAuthResponse('password-longer', challenge)).toEqual(vncAuthResponse('password', challenge));
  });
});

describe('RFB client against TigerVNC + websockify', () => {
  const children: ChildProcess[] = [];
  let dir = '';
  let url = '';
  let display = 0;

  const start = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess => {
    const child = spawn(cmd, args, { stdio: 'ignore', env });
    children.push(child);
    return child;
  };

  beforeEach((ctx) => {
    if (skipReason) ctx.skip(skipReason);
  });

  beforeAll(async () => {
    if (skipReason) return;
    dir = mkdtempSync(join(tmpdir(), 'rfb-test-'));
    const passwd = spawnSync('vncpasswd', ['-f'], { input: `${PASSWORD}\n` });
    if (passwd.status !== 0) throw new Error(`vncpasswd -f failed: ${passwd.stderr.toString()}`);
    writeFileSync(join(dir, 'passwd'), passwd.stdout, { mode: 0o600 });
    display = freeDisplay();
    const [rfbPort, wsPort] = (await freePorts(2)) as [number, number];
    start('Xvnc', [`:${display}`, '-localhost', '-rfbport', String(rfbPort), '-SecurityTypes', 'VncAuth',
      '-PasswordFile', join(dir, 'passwd'), '-geometry', '800x600', '-desktop', 'rfb-test']);
    start('websockify', [String(wsPort), `127.0.0.1:${rfbPort}`]);
    await waitForPort(rfbPort, 10_000);
    await waitForPort(wsPort, 10_000);
    const env = { ...process.env, DISPLAY: `:${display}` };
    const root = spawnSync('xsetroot', ['-solid', 'steelblue'], { env });
    if (root.status !== 0) throw new Error(`xsetroot failed: ${root.stderr.toString()}`);
    start('xterm', ['-geometry', '60x15+20+20', '-e', 'sleep 300'], env);
    await new Promise((r) => setTimeout(r, 1_000)); // let xterm map its window
    url = `ws://127.0.0.1:${wsPort}/`;
  });

  afterAll(() => {
    for (const child of children.reverse()) child.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers the handshake with RFB 3.8, VNC authentication and the desktop it serves', async () => {
    const h = await rfbHandshake(url, PASSWORD);
    expect(h).toEqual({ serverVersion: 'RFB 003.008', securityTypes: [2], width: 800, height: 600, name: 'rfb-test' });
  });

  it('gives a full-screen picture that is not blank', async () => {
    const s = await screenshot(url, PASSWORD);
    mkdirSync('test/results', { recursive: true });
    writeFileSync('test/results/rfb-screenshot.png', encodePng(s));
    expect([s.width, s.height, s.rgba.length]).toEqual([800, 600, 800 * 600 * 4]);
    expect(blank(s)).toBe(false);
    // the root window's steelblue (70, 130, 180) at the bottom-right corner, away from the xterm
    const corner = (600 * 800 - 1) * 4;
    expect([...s.rgba.subarray(corner, corner + 4)]).toEqual([70, 130, 180, 255]);
  });

  it('refuses a wrong password with the server reason', async () => {
    await expect(rfbHandshake(url, 'wrong')).rejects.toThrow(/^VNC authentication failed: \S/);
  });
});
