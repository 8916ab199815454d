// SPDX-License-Identifier: Apache-2.0
/**
 * The browser half of a VNC desktop: the noVNC client's ES modules (from the `@novnc/novnc`
 * package), the gateway's own scripts and styles, and the desktop page that ties them to the
 * VNC bridge's WebSocket. Files are served read-only from two fixed folders, never by a path a
 * request could steer out of them.
 */
import { realpathSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { escapeHtml } from './http.ts';
import { ASSET_PREFIX, pageHtml } from './pages.ts';
import { sendStaticFile } from './static-file.ts';

/** Where the noVNC modules are served: `core/rfb.js` lies below it. */
export const NOVNC_PREFIX = '/_panalysis/novnc/';

/** Content types of the files served; other extensions are not served at all. */
const CONTENT_TYPES: ReadonlyMap<string, string> = new Map([
  ['.js', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
  ['.svg', 'image/svg+xml'],
  ['.png', 'image/png'],
  ['.woff2', 'font/woff2'],
]);

/** A folder whose files are served below a URL prefix, with the subfolders that may be reached. */
interface AssetRoot {
  prefix: string;
  dir: string;
  /** First path segments allowed below `prefix`; empty means only files directly in `dir`. */
  subfolders: readonly string[];
}

const NOVNC_ROOT: AssetRoot = {
  prefix: NOVNC_PREFIX,
  // the package exports only core/rfb.js, so its folder is found from there
  dir: dirname(dirname(createRequire(import.meta.url).resolve('@novnc/novnc'))),
  subfolders: ['core', 'vendor'],
};

const GATEWAY_ROOT: AssetRoot = {
  prefix: ASSET_PREFIX,
  dir: fileURLToPath(new URL('./assets/', import.meta.url)),
  subfolders: [],
};

/** Files already read, by absolute path: both folders are part of the installed program. */

/**
 * The file below `root` that `urlPath` names, or `undefined` when it names none that may be served.
 * Percent-decoding happens once; the decoded path must consist of plain name segments (letters,
 * digits, `.`, `_`, `-`; no `.` or `..` segment, no backslash, NUL or other encoded byte), lie in
 * an allowed subfolder, have a known extension, and still lie inside the folder once symlinks are
 * resolved.
 */
function resolveAsset(root: AssetRoot, urlPath: string): string | undefined {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath.slice(root.prefix.length).replace(/[?#].*$/s, ''));
  } catch {
    return undefined;
  }
  const segments = rel.split('/');
  if (segments.some((s) => !/^[A-Za-z0-9._-]+$/.test(s) || s === '.' || s === '..')) return undefined;
  if (root.subfolders.length === 0 ? segments.length !== 1 : !root.subfolders.includes(segments[0]!) || segments.length < 2) return undefined;
  if (!CONTENT_TYPES.has(extname(rel))) return undefined;
  try {
    const base = realpathSync(root.dir);
    const file = realpathSync(join(base, ...segments));
    return file.startsWith(base + sep) && statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

/** Answers a request for `urlPath` from `root`; false when the path is not below its prefix. */
function serveFrom(root: AssetRoot, urlPath: string, res: ServerResponse): boolean {
  if (!urlPath.startsWith(root.prefix)) return false;
  const file = resolveAsset(root, urlPath);
  sendStaticFile(res, file, file ? CONTENT_TYPES.get(extname(file))! : '');
  return true;
}

/**
 * Serves a file of the noVNC client: `urlPath` (a request path, query allowed) below
 * {@link NOVNC_PREFIX}, in the package's `core/` or `vendor/` folder.
 *
 * Returns false, without touching `res`, when `urlPath` is not below the prefix; otherwise answers
 * and returns true: 200 with the file, its content type, `Cache-Control: public, max-age=86400`
 * and `X-Content-Type-Options: nosniff`, or 404 for anything else (traversal with `..` in any
 * encoding, backslashes, NUL, other folders, unknown extensions, missing files).
 */
export function serveNoVncAsset(urlPath: string, res: ServerResponse): boolean {
  return serveFrom(NOVNC_ROOT, urlPath, res);
}

/**
 * Serves the gateway's own scripts and styles (`src/gateway/assets/*`) below `/_panalysis/assets/`,
 * with the same rules as {@link serveNoVncAsset}; subfolders are never served.
 */
export function serveGatewayAsset(urlPath: string, res: ServerResponse): boolean {
  return serveFrom(GATEWAY_ROOT, urlPath, res);
}

/** What the desktop page needs. */
export interface DesktopPageOptions {
  /** Shown in the page header (plain text; escaped here). */
  title: string;
  /** The WebSocket of the VNC bridge: a path (made ws:/wss: on the page's origin) or a ws(s) URL. */
  wsPath: string;
  /** Where `desktop.js` and `desktop.css` are served, ending in `/`: normally `/_panalysis/assets/`. */
  assetBase: string;
}

/**
 * The content of the desktop page's `<body>`: a header with the title and the connection state
 * (`#status`), the screen noVNC draws into (`#screen`), and the page's stylesheet and module
 * script from `assetBase`. No inline script or style, so it runs under `script-src 'self'`.
 * The body element itself must carry {@link desktopBodyAttrs}, which tells the script where to connect.
 */
export function desktopPageBody(opts: DesktopPageOptions): string {
  const base = escapeHtml(opts.assetBase);
  return `<link rel="stylesheet" href="${base}desktop.css"><header class="desktop-bar"><h1>${escapeHtml(opts.title)}</h1><span id="status" data-state="connecting">Connecting</span></header><div id="screen"></div><script type="module" src="${base}desktop.js"></script>`;
}

/** The attributes of the desktop page's `<body>` (unescaped; the page shell escapes them). */
export function desktopBodyAttrs(opts: Pick<DesktopPageOptions, 'wsPath'>): Record<string, string> {
  return { class: 'desktop', 'data-ws': opts.wsPath };
}

/** The whole desktop page in the gateway's page shell: {@link desktopPageBody} with {@link desktopBodyAttrs}. */
export function desktopPage(opts: DesktopPageOptions): string {
  return pageHtml({ title: opts.title, body: desktopPageBody(opts), bodyAttrs: desktopBodyAttrs(opts) });
}
