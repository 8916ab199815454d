// SPDX-License-Identifier: Apache-2.0
/**
 * The browser half of a Guacamole desktop: the page body that loads `assets/guacamole.js`,
 * and the guacamole-common-js 1.5 client library it imports, served from the installed
 * package (its ES module build, `dist/esm/`).
 */
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { escapeHtml } from './http.ts';
import { ASSET_PREFIX } from './pages.ts';
import { sendStaticFile } from './static-file.ts';

/** Where guacamole-common-js is served; `assets/guacamole.js` imports it relative to itself. */
export const GUACAMOLE_PREFIX = '/_panalysis/guacamole/';

/** The package's ES module build, found from its CommonJS entry (`dist/cjs/…`). */
const ESM_DIR = join(dirname(dirname(createRequire(import.meta.url).resolve('guacamole-common-js'))), 'esm');
/** The only files served below the prefix: a fixed list, so no request path reaches the disk. */
const FILES: ReadonlyMap<string, string> = new Map([
  ['guacamole-common.js', join(ESM_DIR, 'guacamole-common.js')],
  ['guacamole-common.min.js', join(ESM_DIR, 'guacamole-common.min.js')],
]);

/**
 * Serves guacamole-common-js: `urlPath` (a request path, query allowed) below
 * {@link GUACAMOLE_PREFIX}. Returns false, without touching `res`, when the path is not below
 * the prefix; otherwise answers and returns true: 200 with `text/javascript`,
 * `Cache-Control: public, max-age=86400` and `X-Content-Type-Options: nosniff` for
 * `guacamole-common.js` or `guacamole-common.min.js`, 404 for any other name (so for every
 * traversal attempt too).
 */
export function serveGuacamoleAsset(urlPath: string, res: ServerResponse): boolean {
  if (!urlPath.startsWith(GUACAMOLE_PREFIX)) return false;
  const name = urlPath.slice(GUACAMOLE_PREFIX.length).replace(/[?#].*$/s, '');
  sendStaticFile(res, FILES.get(name), 'text/javascript; charset=utf-8');
  return true;
}

/** What the Guacamole page needs. */
export interface GuacamolePageOptions {
  /** Shown in the page header (plain text; escaped here). */
  readonly title: string;
  /** The tunnel's WebSocket: a path (made ws:/wss: on the page's origin) or a ws(s) URL. */
  readonly wsPath: string;
  /** The connection token from `issueConnectionToken`, sent as `token=` connect data. */
  readonly token: string;
}

/**
 * The content of the Guacamole page's `<body>`: a header with the title and the connection
 * state (`#status`), the display area (`#screen`, whose `data-ws` and `data-token` tell the
 * script where to connect), the desktop stylesheet and the module script `guacamole.js`. No inline
 * script or style, so it runs under `script-src 'self'`. The page holds a token: serve it
 * with `Cache-Control: no-store`.
 */
export function guacamolePageBody(opts: GuacamolePageOptions): string {
  return (
    `<link rel="stylesheet" href="${ASSET_PREFIX}desktop.css">` +
    `<header class="desktop-bar"><h1>${escapeHtml(opts.title)}</h1><span id="status" data-state="connecting">Connecting</span></header>` +
    `<div id="screen" data-ws="${escapeHtml(opts.wsPath)}" data-token="${escapeHtml(opts.token)}"></div>` +
    `<script type="module" src="${ASSET_PREFIX}guacamole.js"></script>`
  );
}
