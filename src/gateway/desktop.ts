// SPDX-License-Identifier: Apache-2.0
/**
 * Desktop sessions in the browser. `vnc`: the noVNC page and the VNC bridge, which logs in
 * to the desktop with the session's password so the browser never holds it. `guacamole`:
 * the guacamole-common-js page with a single-use connection token, and the tunnel, which
 * does guacd's handshake itself so the browser cannot choose the target. Both WebSockets
 * live under the session's path, count input for idle detection, and are closed when
 * access is revoked.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { PORTS } from '../desired/containers.ts';
import { sessionPath } from '../desired/names.ts';
import { noticeScript } from './notice.ts';
import type { Viewer } from '../policy/session-access.ts';
import type { GatewayContext } from './context.ts';
import { guacamolePageBody, serveGuacamoleAsset } from './guac-page.ts';
import { ConnectionTokens, issueConnectionToken, TOKEN_ERRORS } from './guac-tokens.ts';
import { tunnelGuacamole } from './guac-tunnel.ts';
import { desktopPage, serveGatewayAsset, serveNoVncAsset } from './novnc.ts';
import { ASSET_PREFIX, pageHtml } from './pages.ts';
import { refuseUpgrade } from './session-routes.ts';
import type { SessionTarget } from './session-routes.ts';
import type { SessionView } from './session-index.ts';
import { bridgeVnc } from './vnc-bridge.ts';

/** guacamole-common-js asks for subprotocol `guacamole`; noVNC may ask for `binary`. */
const wss = new WebSocketServer({
  noServer: true,
  maxPayload: 16 << 20,
  handleProtocols: (offered) => ['guacamole', 'binary'].find((p) => offered.has(p)) ?? false,
});
const tokensByKey = new WeakMap<Uint8Array, ConnectionTokens>();

/** Where a desktop's WebSocket is, under the session's path. */
export function desktopSocketPath(namespace: string, name: string, protocol: 'vnc' | 'guacamole'): string {
  return `${sessionPath(namespace, name)}_panalysis/${protocol}`;
}

/** Serves the gateway's assets, noVNC and guacamole-common-js; false when `path` is none of them. */
export function serveDesktopAsset(path: string, res: ServerResponse): boolean {
  if (!path.startsWith('/_panalysis/')) return false;
  return serveGatewayAsset(path, res) || serveNoVncAsset(path, res) || serveGuacamoleAsset(path, res);
}

function tokens(ctx: GatewayContext): ConnectionTokens {
  const key = ctx.sealer.keyOf('guacamole');
  let t = tokensByKey.get(key);
  if (!t) tokensByKey.set(key, (t = new ConnectionTokens(key)));
  return t;
}

function protocolOf(view: SessionView): 'vnc' | 'guacamole' {
  return view.session.spec.desktop?.protocol === 'guacamole' ? 'guacamole' : 'vnc';
}

/** The desktop page of a Ready session. */
export async function renderDesktopPage(ctx: GatewayContext, view: SessionView, viewer: Viewer, t: SessionTarget): Promise<string> {
  const title = `${t.namespace}/${t.name}`;
  const protocol = protocolOf(view);
  const wsPath = desktopSocketPath(t.namespace, t.name, protocol);
  // The banner of the session's notice (the end of its lifetime, idleness) is on the desktop's page too.
  const notice = noticeScript(sessionPath(t.namespace, t.name));
  if (protocol === 'vnc') return withBeforeBodyEnd(desktopPage({ title, wsPath, assetBase: ASSET_PREFIX }), notice);
  const token = await issueConnectionToken(ctx.sealer.keyOf('guacamole'), { session: title, sessionUid: view.session.metadata.uid!, user: viewer.user });
  return pageHtml({ title, body: guacamolePageBody({ title, wsPath, token }) + notice, bodyAttrs: { class: 'desktop' } });
}

function withBeforeBodyEnd(html: string, extra: string): string {
  const end = html.lastIndexOf('</body>');
  return end < 0 ? html + extra : html.slice(0, end) + extra + html.slice(end);
}

/** The geometry the operator gave the desktop (`WxH`), for guacd's display size. */
function geometry(view: SessionView): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(view.session.spec.desktop?.geometry ?? '');
  return m ? { width: Number(m[1]), height: Number(m[2]) } : { width: 1600, height: 900 };
}

/**
 * Takes a desktop's WebSocket upgrade (already authorised) at its path; anything else is
 * refused. `register` records the open connection for revocation and returns its removal.
 */
export async function handleDesktopUpgrade(ctx: GatewayContext, req: IncomingMessage, socket: Duplex, head: Buffer, view: SessionView, viewer: Viewer, t: SessionTarget, register: (close: (reason: string) => void) => () => void): Promise<void> {
  const protocol = protocolOf(view);
  const url = new URL(req.url ?? '/', 'http://gateway.invalid');
  if (url.pathname !== desktopSocketPath(t.namespace, t.name, protocol)) return refuseUpgrade(socket, 404, 'no such desktop connection');
  const up = view.upstream!;
  const session = `${t.namespace}/${t.name}`;
  // A refused token closes the tunnel with a Guacamole status as reason, as guacamole-client does: 769 (expired or used: the page says reload), 771 (forbidden).
  let refused: string | undefined;
  if (protocol === 'guacamole') {
    const consumed = await tokens(ctx).consume(url.searchParams.get('token') ?? '', { session, sessionUid: view.session.metadata.uid! });
    if ('error' in consumed) refused = consumed.error === TOKEN_ERRORS.expired || consumed.error === TOKEN_ERRORS.replayed ? '769' : '771';
    else if (consumed.user !== viewer.user) refused = '771';
  }
  const input = ctx.metrics.counter('panalysis_gateway_desktop_input_total', 'Seconds with keyboard or pointer input on desktops (counted at most once a second per connection).', ['protocol']);
  const onInput = (): void => {
    input.inc({ protocol });
    ctx.activity?.touch(t.namespace, t.name);
  };
  wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    if (refused) {
      ws.close(1008, refused);
      return;
    }
    const remove = register((reason) => ws.close(1008, reason.slice(0, 120)));
    // An open desktop counts as activity (a scientist watching a long computation), input or not.
    const open = setInterval(() => ctx.activity?.touch(t.namespace, t.name), 30_000);
    const logger = { info: (msg: string, kv?: object) => ctx.logger.info(msg, { session, ...kv }), warn: (msg: string, kv?: object) => ctx.logger.info(msg, { session, ...kv }) };
    const done = protocol === 'vnc'
      ? bridgeVnc(ws, { url: `ws://${formatHost(up.host)}:${up.port}/`, password: up.credential }, { onInput, logger })
      : tunnelGuacamole(ws, { host: up.host, port: up.port, connection: { protocol: 'vnc', hostname: '127.0.0.1', port: PORTS.vnc, password: up.credential }, display: { ...geometry(view), dpi: 96 } }, { onInput, logger: ctx.logger });
    void done.then((end) => {
      clearInterval(open);
      remove();
      ctx.logger.info('Desktop connection ended', { session, user: viewer.user, reason: end.reason });
    });
  });
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
