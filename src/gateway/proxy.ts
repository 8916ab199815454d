// SPDX-License-Identifier: Apache-2.0
/**
 * HTTP and WebSocket proxying to a session's pod. What the browser sent is cleaned before
 * it goes on: hop-by-hop headers, the gateway's own cookies, any credentials and any
 * identity or forwarding header a client could forge are dropped, and the gateway adds the
 * session's credential itself (so the browser never sees the Jupyter token). What comes
 * back is cleaned too: CORS grants are dropped (a session answers only its own origin) and
 * cookies it sets stay on its own host (no `Domain`).
 */
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { withoutCookies } from './http.ts';

/** Request headers never passed on. */
const DROPPED_REQUEST = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'authorization', 'forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-forwarded-prefix', 'x-real-ip',
  'x-remote-user', 'x-remote-group', 'x-forwarded-user', 'x-forwarded-email', 'x-auth-request-user', 'remote-user', 'x-panalysis-user',
]);

/** Response headers never passed back. */
const DROPPED_RESPONSE = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'trailer', 'upgrade',
  'access-control-allow-origin', 'access-control-allow-credentials', 'access-control-allow-headers', 'access-control-allow-methods', 'access-control-expose-headers',
]);

/** Where to and with what. */
export interface ProxyTarget {
  host: string;
  port: number;
  /** Extra request headers, e.g. `Authorization: token ...`. */
  headers: Record<string, string>;
  /** Cookies of the gateway, removed from the request. */
  dropCookies: readonly string[];
  /** The original scheme (for `X-Forwarded-Proto`). */
  proto: 'http' | 'https';
  /**
   * A secret removed from every HTML page the upstream sends (JupyterLab writes its token into
   * the page's configuration; the browser must never see it). Such pages are buffered (at most
   * {@link MAX_SCRUBBED_BYTES}) and decompressed when the upstream compressed them.
   */
  scrub?: string;
  /** HTML put before the closing `</body>` of those pages (the gateway's notice script). */
  inject?: string;
}

/** How long a session's pod may take to accept a connection. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** Largest HTML page the proxy buffers to scrub; a larger one is refused (502). */
export const MAX_SCRUBBED_BYTES = 16 << 20;

function decoderFor(encoding: string | undefined): Transform | undefined | null {
  if (!encoding || encoding === 'identity') return undefined;
  if (encoding === 'gzip' || encoding === 'x-gzip') return createGunzip();
  if (encoding === 'deflate') return createInflate();
  if (encoding === 'br') return createBrotliDecompress();
  return null;
}

/** Sends `upRes` with every occurrence of `secret` removed (pages only; they are small). */
function sendScrubbed(upRes: IncomingMessage, res: ServerResponse, secret: string, inject = ''): void {
  const decoder = decoderFor(upRes.headers['content-encoding']);
  if (decoder === null) {
    upRes.resume();
    res.writeHead(502, { 'Content-Type': 'text/plain' }).end('The session sent a page in an encoding the gateway cannot check.');
    return;
  }
  const source: NodeJS.ReadableStream = decoder ? upRes.pipe(decoder) : upRes;
  const chunks: Buffer[] = [];
  let size = 0;
  source.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_SCRUBBED_BYTES) {
      upRes.destroy();
      res.destroy();
      return;
    }
    chunks.push(c);
  });
  source.on('error', () => res.destroy());
  source.on('end', () => {
    const html = Buffer.concat(chunks).toString('utf8').split(secret).join('');
    const end = html.toLowerCase().lastIndexOf('</body>');
    const body = Buffer.from(inject === '' ? html : end < 0 ? html + inject : html.slice(0, end) + inject + html.slice(end), 'utf8');
    const headers = downstreamHeaders(upRes.headers);
    delete headers['content-encoding'];
    delete headers['content-length'];
    delete headers.etag;
    res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, { ...headers, 'content-length': String(body.length) });
    res.end(body);
  });
}

/** The request headers passed to the upstream. */
export function upstreamHeaders(headers: IncomingHttpHeaders, remote: string | undefined, t: ProxyTarget): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const listed = new Set(String(headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim()).filter(Boolean));
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || DROPPED_REQUEST.has(name) || listed.has(name) || name === 'cookie') continue;
    out[name] = value;
  }
  const cookie = withoutCookies(headers.cookie, t.dropCookies);
  if (cookie) out.cookie = cookie;
  out['x-forwarded-proto'] = t.proto;
  if (headers.host) out['x-forwarded-host'] = headers.host;
  if (remote) out['x-forwarded-for'] = remote;
  return { ...out, ...t.headers };
}

/** Removes `Domain=...` from a Set-Cookie value, so the cookie stays on the session's own host. */
export function hostOnlyCookie(setCookie: string): string {
  return setCookie.split(';').filter((part) => !/^\s*domain\s*=/i.test(part)).join(';');
}

/** The response headers passed back to the browser. */
export function downstreamHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const listed = new Set(String(headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim()).filter(Boolean));
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || DROPPED_RESPONSE.has(name) || listed.has(name)) continue;
    out[name] = name === 'set-cookie' && Array.isArray(value) ? value.map(hostOnlyCookie) : value;
  }
  return out;
}

/**
 * Proxies one HTTP request. An upstream that cannot be reached gives `onError` the chance
 * to answer (nothing was sent yet); one that dies mid-response ends the browser's response
 * abruptly, as it would have ended.
 */
export function proxyHttp(req: IncomingMessage, res: ServerResponse, t: ProxyTarget, onError: (err: Error) => void): void {
  const up = httpRequest({ host: t.host, port: t.port, method: req.method, path: req.url, headers: upstreamHeaders(req.headers, req.socket.remoteAddress, t), timeout: 60_000 });
  up.on('response', (upRes) => {
    if (t.scrub && String(upRes.headers['content-type'] ?? '').toLowerCase().startsWith('text/html')) {
      sendScrubbed(upRes, res, t.scrub, t.inject);
      return;
    }
    res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, downstreamHeaders(upRes.headers));
    upRes.pipe(res);
    upRes.on('error', () => res.destroy());
    upRes.on('aborted', () => res.destroy());
  });
  up.on('timeout', () => up.destroy(new Error('the session did not answer within 60 s')));
  up.on('socket', (socket) => {
    if (!socket.connecting) return;
    const timer = setTimeout(() => up.destroy(new Error(`the session did not accept a connection within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
    socket.once('connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
  });
  up.on('error', (err) => {
    if (res.headersSent) res.destroy();
    else onError(err);
  });
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  req.pipe(up);
}

/**
 * Proxies a WebSocket upgrade: writes the cleaned upgrade request to the upstream and then
 * pipes bytes both ways. Resolves with the upstream socket once its 101 answer was relayed,
 * or `undefined` when it refused or could not be reached (the browser gets a short error).
 */
export function proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, t: ProxyTarget): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const up = connect({ host: t.host, port: t.port, timeout: CONNECT_TIMEOUT_MS });
    const fail = (): void => {
      if (!socket.destroyed) socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      up.destroy();
      resolve(undefined);
    };
    up.once('timeout', fail);
    up.once('error', fail);
    up.once('connect', () => {
      const headers = upstreamHeaders(req.headers, req.socket.remoteAddress, t);
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (const [name, value] of Object.entries(headers)) for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${String(v)}`);
      lines.push('connection: Upgrade', `upgrade: ${req.headers.upgrade ?? 'websocket'}`);
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) up.write(head);
      up.setTimeout(0);
      up.off('timeout', fail);
      up.off('error', fail);
      up.pipe(socket);
      socket.pipe(up);
      const close = (): void => {
        up.destroy();
        socket.destroy();
      };
      up.on('error', close);
      up.on('close', close);
      socket.on('error', close);
      socket.on('close', close);
      resolve(up);
    });
  });
}
