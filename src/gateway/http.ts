// SPDX-License-Identifier: Apache-2.0
/** Small HTTP helpers of the gateway: cookies, security headers, safe redirects (pure where possible). */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The cookies of a request (first value wins; malformed pairs skipped). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 1) continue;
    const name = part.slice(0, eq).trim();
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

/** The `Cookie` header without the named cookies (what an upstream must never see). */
export function withoutCookies(header: string | undefined, names: readonly string[]): string | undefined {
  if (!header) return undefined;
  const kept = header.split(';').map((p) => p.trim()).filter((p) => p && !names.includes(p.slice(0, Math.max(0, p.indexOf('='))).trim()));
  return kept.length > 0 ? kept.join('; ') : undefined;
}

/** Options of {@link serializeCookie}. */
export interface CookieOptions {
  secure: boolean;
  maxAgeS: number;
  sameSite: 'Lax' | 'Strict';
  path?: string;
}

/** A host-only, HttpOnly cookie (no Domain attribute: it never reaches another host). */
export function serializeCookie(name: string, value: string, o: CookieOptions): string {
  return [`${name}=${value}`, `Path=${o.path ?? '/'}`, `Max-Age=${Math.max(0, Math.floor(o.maxAgeS))}`, 'HttpOnly', `SameSite=${o.sameSite}`, ...(o.secure ? ['Secure'] : [])].join('; ');
}

/** The cookie name: with the `__Host-` prefix over https (the browser then refuses a Domain or a non-Secure one). */
export function cookieName(base: string, secure: boolean): string {
  return secure ? `__Host-${base}` : base;
}

/**
 * A path on the same origin to go to after a login, or `/`: it must start with one `/`,
 * not `//` or `/\` (which browsers treat as another host), and hold no control characters.
 */
export function safeNext(next: string | null | undefined, fallback = '/'): string {
  if (!next || next.length > 2048) return fallback;
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
  if ([...next].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f || c === '\\')) return fallback;
  try {
    const u = new URL(next, 'http://gateway.invalid');
    if (u.host !== 'gateway.invalid') return fallback;
    return `${u.pathname}${u.search}${u.hash}`;
  } catch {
    return fallback;
  }
}

/** Headers every page the gateway itself serves carries. */
export const PAGE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/** Sends a complete response (with the page security headers when `page`). */
export function send(res: ServerResponse, status: number, body: string, headers: Record<string, string | string[]> = {}, page = true): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { ...(page ? PAGE_SECURITY_HEADERS : {}), 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

/** A 303 redirect (the next request is a GET whatever this one was). */
export function redirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(303, { ...PAGE_SECURITY_HEADERS, Location: location, 'Content-Length': '0', ...headers });
  res.end();
}

/** The request's host without port, lower case; `undefined` when absent or malformed. */
export function hostOf(req: IncomingMessage): string | undefined {
  const host = req.headers.host;
  if (!host || host.length > 255) return undefined;
  const m = /^([a-z0-9.-]+)(:\d{1,5})?$/i.exec(host);
  return m ? m[1]!.toLowerCase() : undefined;
}

/** Reads a small urlencoded form body (at most `limit` bytes). */
export async function readForm(req: IncomingMessage, limit = 8192): Promise<URLSearchParams> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
