// SPDX-License-Identifier: Apache-2.0
/** Polling and probing helpers for bringing a local cluster up. */
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import type { Server } from 'node:net';

/** A free TCP port on 127.0.0.1 (bound and released; racy only against other processes). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * `n` distinct free loopback ports: all are held open at once before any is released, so that
 * two of them can never be the same port (one after another, {@link freePort} may return a port
 * twice, and two components of one cluster then fight over it).
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<Server>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  })));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/**
 * Polls `check` every `intervalMs` until it returns true.
 * @throws Error saying what was awaited (and `hint`) after `timeoutMs`.
 */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, hint = '', intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const cause = last instanceof Error ? ` (last error: ${last.message})` : '';
  throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${cause}${hint ? `; ${hint}` : ''}`);
}

/** GET `url` and resolve the status code; https with an optional CA and bearer token. */
export function probe(url: string, opts: { ca?: string; token?: string; insecure?: boolean } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
    const options = { headers, timeout: 2000, ca: opts.ca, rejectUnauthorized: !opts.insecure };
    const req = url.startsWith('https:') ? request(url, options) : httpRequest(url, { headers, timeout: 2000 });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
