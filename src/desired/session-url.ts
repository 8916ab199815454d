// SPDX-License-Identifier: Apache-2.0
/**
 * Where a session is served (pure): the operator writes it into `status.url`, the gateway
 * routes requests by it. In `subdomain` routing every session has a web origin of its own,
 * `<label>.<sessionDomain>` with the scheme and port of the gateway's base URL; in `path`
 * routing all share the gateway's origin. The path is `/s/<namespace>/<name>/` in both
 * modes: Jupyter's base_url is the same, so nothing is rewritten on the way.
 */
import { createHash } from 'node:crypto';
import { sessionPath } from './names.ts';

/** What of the gateway configuration decides a session's URL. */
export interface SessionUrlConfig {
  baseUrl: string;
  routing: 'subdomain' | 'path';
  sessionDomain?: string;
}

/** Longest DNS label. */
const MAX_LABEL = 63;

/**
 * The host label of a session: `<name>--<namespace>` when that fits a DNS label and neither
 * part holds `--` (so the split is unique and two sessions never share a label), else `s-`
 * and 26 base32 characters of a SHA-256 of `<namespace>/<name>` (130 bits: no collision).
 */
export function sessionHostLabel(namespace: string, name: string): string {
  const plain = `${name}--${namespace}`;
  if (plain.length <= MAX_LABEL && !name.includes('--') && !namespace.includes('--')) return plain;
  return `s-${base32(createHash('sha256').update(`${namespace}/${name}`).digest()).slice(0, 26)}`;
}

function base32(bytes: Buffer): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** The origin (`scheme://host[:port]`) a session is served from. */
export function sessionOrigin(config: SessionUrlConfig, namespace: string, name: string): string {
  const base = new URL(config.baseUrl);
  if (config.routing === 'path' || !config.sessionDomain) return base.origin;
  return `${base.protocol}//${sessionHostLabel(namespace, name)}.${config.sessionDomain}${base.port ? `:${base.port}` : ''}`;
}

/** The URL a scientist opens (`status.url`). */
export function sessionUrl(config: SessionUrlConfig, namespace: string, name: string): string {
  if (config.routing === 'path' || !config.sessionDomain) return `${config.baseUrl.replace(/\/$/, '')}${sessionPath(namespace, name)}`;
  return `${sessionOrigin(config, namespace, name)}${sessionPath(namespace, name)}`;
}

/**
 * The namespace and name of `/s/<namespace>/<name>/...`, after the WHATWG URL parser has
 * resolved dot segments; `undefined` for anything else (so `/s/ns/a/../b/` is session b's
 * path only if the client sends it resolved, and the gateway checks the resolved path).
 */
export function parseSessionPath(pathname: string): { namespace: string; name: string; rest: string } | undefined {
  const m = /^\/s\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z]([-a-z0-9]*[a-z0-9])?)(\/.*)?$/.exec(pathname);
  if (!m) return undefined;
  return { namespace: m[1]!, name: m[3]!, rest: m[5] ?? '' };
}
