// SPDX-License-Identifier: Apache-2.0
/** Answers a request for a static file the gateway serves (its assets, noVNC, guacamole-common-js). */
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';

/** File contents by path: the files are part of the installation and do not change while it runs. */
const cache = new Map<string, Buffer>();

/**
 * Sends `file` with `contentType`, cached a day and never sniffed, or 404 when `file` is
 * undefined (the caller found no allowed file for the path). HEAD gets the headers only.
 */
export function sendStaticFile(res: ServerResponse, file: string | undefined, contentType: string): void {
  if (!file) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' });
    res.end('Not found\n');
    return;
  }
  let body = cache.get(file);
  if (!body) {
    body = readFileSync(file);
    cache.set(file, body);
  }
  res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': String(body.length), 'Cache-Control': 'public, max-age=86400', 'X-Content-Type-Options': 'nosniff' });
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}
