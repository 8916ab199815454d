// SPDX-License-Identifier: Apache-2.0
/**
 * The gateway's HTTP server: dispatches by host (the gateway's own, or a session's under
 * `sessionDomain`) and path, for requests and WebSocket upgrades, with limits, timeouts and
 * an access log. Paths are taken as the WHATWG URL parser resolves them (dot segments and
 * their encodings removed) and that resolved path is what the upstream gets.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { parseSessionPath, sessionOrigin } from '../desired/session-url.ts';
import { gatewayHost } from './context.ts';
import type { GatewayContext } from './context.ts';
import { Connections } from './connections.ts';
import { handleDesktopUpgrade, renderDesktopPage, serveDesktopAsset } from './desktop.ts';
import { hostOf, redirect, send } from './http.ts';
import { handleGatewayRoute } from './login-routes.ts';
import { messagePage, notFoundPage } from './pages.ts';
import { proxyUpgrade } from './proxy.ts';
import { admit, crossOriginProblem, handleSessionRequest, jupyterTarget, originOf, refuseUpgrade } from './session-routes.ts';
import type { SessionTarget } from './session-routes.ts';

/** The running server and what stops it. */
export interface GatewayServer {
  server: Server;
  connections: Connections;
  close(): Promise<void>;
}

/** The session a request is for, from its host (subdomain routing) or its path (path routing); `null` for the gateway's own routes. */
function targetOf(ctx: GatewayContext, host: string, url: URL): SessionTarget | null | undefined {
  const config = ctx.config();
  if (host === gatewayHost(config)) {
    if (config.routing !== 'path') return null;
    const p = parseSessionPath(url.pathname);
    return p ? { namespace: p.namespace, name: p.name, mode: 'path' } : null;
  }
  const suffix = `.${config.sessionDomain}`;
  if (config.routing !== 'subdomain' || !host.endsWith(suffix)) return undefined;
  const label = host.slice(0, -suffix.length);
  if (label.includes('.')) return undefined;
  const ref = ctx.index.byHostLabel(label);
  return ref ? { ...ref, mode: 'subdomain' } : undefined;
}

function parseUrl(req: IncomingMessage): URL | undefined {
  try {
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    return url.host === 'gateway.invalid' && (req.url ?? '/').startsWith('/') ? url : undefined;
  } catch {
    return undefined;
  }
}

async function onRequest(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const host = hostOf(req);
  const url = parseUrl(req);
  if (!host || !url) return send(res, 400, messagePage('Bad request', 'The request has no valid host or path.'));
  req.url = `${url.pathname}${url.search}`;
  if (serveDesktopAsset(url.pathname, res)) return;
  if (url.pathname === '/_panalysis/healthz') return send(res, 200, 'ok', { 'Content-Type': 'text/plain' }, false);
  const target = targetOf(ctx, host, url);
  if (target === undefined) return send(res, 404, notFoundPage(`A session at ${host}`));
  if (target) return handleSessionRequest(ctx, req, res, url, target, renderDesktopPage);
  if (await handleGatewayRoute(ctx, req, res, url)) return;
  const p = parseSessionPath(url.pathname);
  if (p && (req.method === 'GET' || req.method === 'HEAD')) return redirect(res, `${sessionOrigin(ctx.config(), p.namespace, p.name)}${req.url}`);
  send(res, 404, notFoundPage(`The page ${url.pathname}`));
}

async function onUpgrade(ctx: GatewayContext, connections: Connections, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const host = hostOf(req);
  const url = parseUrl(req);
  if (!host || !url) return refuseUpgrade(socket, 400, 'bad request');
  req.url = `${url.pathname}${url.search}`;
  const target = targetOf(ctx, host, url);
  if (!target) return refuseUpgrade(socket, 404, 'no such session');
  const problem = crossOriginProblem(req, originOf(ctx, target), true);
  if (problem) return refuseUpgrade(socket, 403, `refused ${problem}`);
  const a = await admit(ctx, req, target, url);
  if (!a.ok) return refuseUpgrade(socket, a.status === 303 ? 401 : a.status, a.status === 303 ? 'not signed in' : 'access denied');
  if (!a.view.ready) return refuseUpgrade(socket, 503, 'the session is not ready');
  const limits = ctx.config().limits;
  if (connections.count(a.viewer.user) >= limits.perUserConnections || connections.count() >= limits.totalConnections) return refuseUpgrade(socket, 429, 'too many open connections');
  const key = `${target.namespace}/${target.name}`;
  ctx.activity?.touch(target.namespace, target.name);
  const uid = a.view.session.metadata.uid!;
  const opened = ctx.metrics.counter('panalysis_gateway_websockets_total', 'WebSockets opened, by session type.', ['type']);
  if (a.view.session.spec.type === 'desktop') {
    opened.inc({ type: 'desktop' });
    return handleDesktopUpgrade(ctx, req, socket, head, a.view, a.viewer, target, (close) => connections.add(key, uid, a.viewer, close));
  }
  const up = await proxyUpgrade(req, socket, head, jupyterTarget(ctx, a.view));
  if (!up) return;
  opened.inc({ type: 'jupyter' });
  const remove = connections.add(key, uid, a.viewer, () => {
    up.destroy();
    socket.destroy();
  });
  socket.once('close', remove);
}

/**
 * Starts the gateway's server on `port` (0: a free one) and `host`.
 * Contract: never throws into Node's event loop for one request; an unexpected error gives a 500 page and a log line.
 */
export async function startGatewayServer(ctx: GatewayContext, port: number, host = '0.0.0.0'): Promise<GatewayServer> {
  const connections = new Connections(ctx);
  const requests = ctx.metrics.counter('panalysis_gateway_requests_total', 'HTTP requests, by status class.', ['code']);
  const server = createServer({ requestTimeout: 120_000, headersTimeout: 30_000, maxHeaderSize: 32_768 }, (req, res) => {
    const start = performance.now();
    res.on('finish', () => {
      requests.inc({ code: `${String(res.statusCode)[0]}xx` });
      ctx.logger.info('request', { method: req.method, host: req.headers.host, path: (req.url ?? '').split('?')[0], status: res.statusCode, ms: Math.round(performance.now() - start) });
    });
    onRequest(ctx, req, res).catch((err: Error) => {
      ctx.logger.error('Request failed', { error: err.message, path: (req.url ?? '').split('?')[0] });
      send(res, 500, messagePage('Something went wrong', 'The gateway could not handle this request; it has been logged.'));
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    onUpgrade(ctx, connections, req, socket, head).catch((err: Error) => {
      ctx.logger.error('Upgrade failed', { error: err.message });
      socket.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    connections,
    close: async () => {
      connections.closeAll('the gateway is stopping');
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
