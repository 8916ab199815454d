// SPDX-License-Identifier: Apache-2.0
/**
 * A real desktop on this host as a session pod runs it: TigerVNC's Xvnc with VNC authentication
 * on loopback, websockify in front of it, a steel-blue root window and one xterm, so that a
 * screenshot has something to show.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../../src/cluster/wait.ts';

const NEEDED = ['Xvnc', 'vncpasswd', 'websockify', 'xsetroot', 'xterm'];

/** Why this host cannot run {@link startVncServer}, or `undefined` when it can. */
export function vncServerMissing(): string | undefined {
  const missing = NEEDED.filter((cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0);
  if (missing.length === 0) return undefined;
  return `${missing.join(', ')} not on PATH; install the Debian packages tigervnc-standalone-server tigervnc-tools websockify xterm x11-xserver-utils (scripts/preflight.sh does as root)`;
}

/** A running desktop. */
export interface VncServer {
  /** websockify's WebSocket URL, as the gateway reaches a pod's port 6080. */
  url: string;
  width: number;
  height: number;
  /** The desktop name Xvnc announces. */
  name: string;
  /** Stops every process it started and removes its files; waits until they have exited. */
  stop(): Promise<void>;
}

/** An X display number with neither a socket nor a lock file. */
function freeDisplay(): number {
  for (let d = 20 + (process.pid % 50); d < 200; d++) {
    if (!existsSync(`/tmp/.X11-unix/X${d}`) && !existsSync(`/tmp/.X${d}-lock`)) return d;
  }
  throw new Error('no free X display between :20 and :200');
}

/** Resolves once `port` on 127.0.0.1 accepts connections; rejects after `ms`. */
async function waitForPort(port: number, ms: number): Promise<void> {
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

/**
 * Starts Xvnc (800×600, security type VncAuth only, password file written by `vncpasswd -f`),
 * websockify in front of it, and the root colour and xterm.
 * @throws Error when a program fails to start or listen within 10 s; whatever had started is stopped.
 */
export async function startVncServer(password: string, name = 'vnc-test'): Promise<VncServer> {
  const children: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'vnc-server-'));
  const stop = async (): Promise<void> => {
    await Promise.all(children.reverse().map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    })));
    rmSync(dir, { recursive: true, force: true });
  };
  const start = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): void => {
    const child = spawn(cmd, args, { stdio: 'ignore', env });
    child.on('error', () => undefined); // a missing program shows as a port that never opens
    children.push(child);
  };
  try {
    const passwd = spawnSync('vncpasswd', ['-f'], { input: `${password}\n` });
    if (passwd.status !== 0) throw new Error(`vncpasswd -f failed: ${passwd.stderr.toString()}`);
    writeFileSync(join(dir, 'passwd'), passwd.stdout, { mode: 0o600 });
    const display = freeDisplay();
    const [rfbPort, wsPort] = (await freePorts(2)) as [number, number];
    start('Xvnc', [`:${display}`, '-localhost', '-rfbport', String(rfbPort), '-SecurityTypes', 'VncAuth',
      '-PasswordFile', join(dir, 'passwd'), '-geometry', '800x600', '-desktop', name]);
    start('websockify', [String(wsPort), `127.0.0.1:${rfbPort}`]);
    await waitForPort(rfbPort, 10_000);
    await waitForPort(wsPort, 10_000);
    const env = { ...process.env, DISPLAY: `:${display}` };
    const root = spawnSync('xsetroot', ['-solid', 'steelblue'], { env });
    if (root.status !== 0) throw new Error(`xsetroot failed: ${root.stderr.toString()}`);
    start('xterm', ['-geometry', '60x15+20+20', '-e', 'sleep 300'], env);
    await new Promise((r) => setTimeout(r, 1_000)); // let xterm map its window
    return { url: `ws://127.0.0.1:${wsPort}/`, width: 800, height: 600, name, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
