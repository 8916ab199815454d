// SPDX-License-Identifier: Apache-2.0
/**
 * Requests for one session: on its own origin (`subdomain` routing) or under its path on
 * the gateway's origin (`path` routing). Every request and WebSocket upgrade is checked:
 * the browser's fetch metadata and Origin (another origin may navigate to a session but
 * never call it or open its WebSockets with the viewer's cookies), the viewer (a session
 * cookie bound to this session's host and UID, handed over by a one-time ticket; or the
 * login in `path` routing), the access rule, and whether the session is Ready. Then the
 * request goes to JupyterLab with the session's token, or to the desktop's page and tunnel.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AnalysisSession } from '../api/v1alpha1/analysis-session.ts';
import { sessionPath } from '../desired/names.ts';
import { sessionHostLabel, sessionOrigin } from '../desired/session-url.ts';
import type { OpenDecision, Viewer } from '../policy/session-access.ts';
import { authorizeViewer } from './authorize.ts';
import { cookieNames, gatewayOrigin, loginOf, secureCookies } from './context.ts';
import type { GatewayContext } from './context.ts';
import { parseCookies, redirect, safeNext, send, serializeCookie } from './http.ts';
import { sessionNotice, noticeScript } from './notice.ts';
import { forbiddenPage, messagePage, notFoundPage, waitingPage } from './pages.ts';
import { proxyHttp } from './proxy.ts';
import type { ProxyTarget } from './proxy.ts';
import type { SessionView } from './session-index.ts';

/** How long a session cookie lives; renewed while in use, never beyond the login. */
export const SESSION_COOKIE_TTL_S = 600;

/** Proxied requests in flight, per user and in all (limited like WebSockets, by `gateway.limits`). */
const inFlight = new Map<string, number>();
const total = { n: 0 };

/** A request's session and how it was addressed. */
export interface SessionTarget {
  namespace: string;
  name: string;
  /** `subdomain`: on the session's own origin; `path`: on the gateway's. */
  mode: 'subdomain' | 'path';
}

/** A viewer as the request proves it, with what to renew. */
interface Proven extends Viewer {
  exp: number;
  loginExp: number;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The origin this session is served from. */
export function originOf(ctx: GatewayContext, t: SessionTarget): string {
  return t.mode === 'path' ? gatewayOrigin(ctx.config()) : sessionOrigin(ctx.config(), t.namespace, t.name);
}

/**
 * Refuses what another origin's page could make the browser send with the viewer's
 * cookies: anything but a top-level navigation from another origin, a state-changing
 * request whose Origin is not the session's, and a WebSocket from another Origin.
 * Returns the reason, or `undefined` when the request may go on.
 */
export function crossOriginProblem(req: IncomingMessage, origin: string, upgrade: boolean): string | undefined {
  const h = req.headers;
  const site = h['sec-fetch-site'];
  if (upgrade) return h.origin === origin ? undefined : `a WebSocket from ${h.origin ?? 'no origin'} to ${origin}`;
  if ((site === 'cross-site' || site === 'same-site') && !(h['sec-fetch-mode'] === 'navigate' && (req.method === 'GET' || req.method === 'HEAD'))) {
    return `a ${site} ${String(h['sec-fetch-mode'] ?? '')} request`;
  }
  if (!SAFE_METHODS.has(req.method ?? 'GET')) {
    if (h.origin !== undefined && h.origin !== origin) return `a ${req.method} from ${h.origin}`;
    if (h.origin === undefined && site !== undefined && site !== 'same-origin' && site !== 'none') return `a ${req.method} without Origin (${site})`;
  }
  return undefined;
}

async function viewerOf(ctx: GatewayContext, req: IncomingMessage, t: SessionTarget, session: AnalysisSession): Promise<Proven | undefined> {
  if (t.mode === 'path') {
    const login = await loginOf(ctx, req);
    return login ? { user: login.user, groups: login.groups, exp: login.exp, loginExp: login.exp } : undefined;
  }
  const raw = parseCookies(req.headers.cookie).get(cookieNames(ctx.config()).session);
  const c = await ctx.sealer.open<{ user: string; groups: string[]; label: string; uid: string; loginExp: number }>('session', raw);
  if (!c || c.label !== sessionHostLabel(t.namespace, t.name) || c.uid !== session.metadata.uid || c.loginExp < ctx.now()) return undefined;
  return { user: c.user, groups: c.groups, exp: c.exp * 1000, loginExp: c.loginExp };
}

/** A fresh session cookie for `v` (never outliving the login). */
async function sessionCookie(ctx: GatewayContext, t: SessionTarget, uid: string, v: { user: string; groups: readonly string[]; loginExp: number }): Promise<string> {
  const config = ctx.config();
  const ttl = Math.max(1, Math.min(SESSION_COOKIE_TTL_S, Math.floor((v.loginExp - ctx.now()) / 1000)));
  const sealed = await ctx.sealer.seal('session', { user: v.user, groups: v.groups, label: sessionHostLabel(t.namespace, t.name), uid, loginExp: v.loginExp }, ttl);
  // Lax, not Strict: a scientist arrives from a portal (another site) and a Strict cookie would not be sent with that navigation. Calls from other origins are refused by crossOriginProblem.
  return serializeCookie(cookieNames(config).session, sealed, { secure: secureCookies(config), maxAgeS: ttl, sameSite: 'Lax' });
}

function isNavigation(req: IncomingMessage): boolean {
  const mode = req.headers['sec-fetch-mode'];
  if (mode !== undefined) return mode === 'navigate' && (req.method === 'GET' || req.method === 'HEAD');
  return (req.method === 'GET' || req.method === 'HEAD') && String(req.headers.accept ?? '').includes('text/html');
}

/** Where a viewer without a valid cookie is sent to sign in (and back). */
function signInUrl(ctx: GatewayContext, t: SessionTarget, url: URL): string {
  const next = safeNext(`${url.pathname}${url.search}`, sessionPath(t.namespace, t.name));
  if (t.mode === 'path') return `/_panalysis/login?next=${encodeURIComponent(next)}`;
  return `${gatewayOrigin(ctx.config())}/_panalysis/authorize?session=${encodeURIComponent(`${t.namespace}/${t.name}`)}&next=${encodeURIComponent(next)}`;
}

/** The viewer and decision for a request, or the response already sent. */
export async function admit(ctx: GatewayContext, req: IncomingMessage, t: SessionTarget, url: URL): Promise<
  | { ok: true; view: SessionView; viewer: Proven; decision: OpenDecision }
  | { ok: false; status: number; page?: string; location?: string; json?: unknown }
> {
  const view = ctx.index.get(t.namespace, t.name);
  if (!view) return { ok: false, status: 404, page: notFoundPage(`The session ${t.namespace}/${t.name}`) };
  const viewer = await viewerOf(ctx, req, t, view.session);
  if (!viewer) {
    if (isNavigation(req)) return { ok: false, status: 303, location: signInUrl(ctx, t, url) };
    return { ok: false, status: 401, json: { error: 'not signed in', signIn: signInUrl(ctx, t, url) } };
  }
  const decision = await authorizeViewer(view.session, viewer, ctx.access);
  if (!decision.allow) {
    ctx.metrics.counter('panalysis_gateway_denied_total', 'Requests refused by the access rules, by reason.', ['reason']).inc({ reason: decision.reason });
    return { ok: false, status: decision.status, page: forbiddenPage(viewer.user, decision.reason, decision.message, `${gatewayOrigin(ctx.config())}/_panalysis/logout`) };
  }
  return { ok: true, view, viewer, decision };
}

function statusJson(view: SessionView): { phase: string; ready: boolean; message: string; notice?: string } {
  const notice = sessionNotice(view.session);
  return { phase: view.phase, ready: view.ready, message: view.ready ? '' : view.message, ...(notice ? { notice } : {}) };
}

/** The request target Jupyter is proxied with: its pod, its token, none of the gateway's cookies. */
export function jupyterTarget(ctx: GatewayContext, view: SessionView): ProxyTarget {
  const names = cookieNames(ctx.config());
  return {
    host: view.upstream!.host,
    port: view.upstream!.port,
    headers: { authorization: `token ${view.upstream!.credential}` },
    // JupyterLab writes its token into every page's configuration: removed on the way.
    scrub: view.upstream!.credential,
    // And its pages get the banner of the session's notice (the end of its lifetime, idleness).
    inject: noticeScript(sessionPath(view.session.metadata.namespace!, view.session.metadata.name!)),
    dropCookies: [names.login, names.session, names.oidc],
    proto: ctx.config().baseUrl.startsWith('https:') ? 'https' : 'http',
  };
}

/** Renders a desktop session's page (noVNC or Guacamole); set by the server. */
export type DesktopPage = (ctx: GatewayContext, view: SessionView, viewer: Viewer, t: SessionTarget) => Promise<string>;

/**
 * Handles an HTTP request for session `t`. `url` is the request URL as the WHATWG parser
 * resolved it (dot segments gone), so only a path under the session's own prefix reaches it.
 */
export async function handleSessionRequest(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, url: URL, t: SessionTarget, desktopPage: DesktopPage): Promise<void> {
  const origin = originOf(ctx, t);
  const problem = crossOriginProblem(req, origin, false);
  if (problem) {
    ctx.metrics.counter('panalysis_gateway_cross_origin_refused_total', 'Requests refused because another origin sent them.').inc();
    return send(res, 403, forbiddenPage('(not checked)', 'CrossOriginRequest', `Refused ${problem}: a session only answers its own pages.`, `${gatewayOrigin(ctx.config())}/_panalysis/logout`));
  }
  const base = sessionPath(t.namespace, t.name);
  if (t.mode === 'subdomain' && url.pathname === '/_panalysis/session-callback') return sessionCallback(ctx, res, url, t);
  if (url.pathname === base.slice(0, -1) || (t.mode === 'subdomain' && url.pathname === '/')) return redirect(res, base);
  const isStatus = url.pathname === `${base}_panalysis/status`;
  if (!url.pathname.startsWith(base)) return send(res, 404, notFoundPage(`The page ${url.pathname}`));
  const a = await admit(ctx, req, t, url);
  if (!a.ok) {
    if (a.location) return redirect(res, a.location);
    if (a.json) return send(res, a.status, JSON.stringify(a.json), { 'Content-Type': 'application/json' });
    return send(res, a.status, a.page ?? '');
  }
  // Asking for the status (the waiting page, the notice banner) is not activity.
  if (!isStatus) ctx.activity?.touch(t.namespace, t.name);
  const renew: Record<string, string> = t.mode === 'subdomain' && a.viewer.exp - ctx.now() < (SESSION_COOKIE_TTL_S * 1000) / 2 ? { 'Set-Cookie': await sessionCookie(ctx, t, a.view.session.metadata.uid!, a.viewer) } : {};
  if (isStatus) return send(res, 200, JSON.stringify(statusJson(a.view)), { 'Content-Type': 'application/json', ...renew });
  if (!a.view.ready) {
    if (isNavigation(req)) return send(res, 200, waitingPage(`${t.namespace}/${t.name}`, a.view.phase, a.view.message, `${base}_panalysis/status`), renew);
    return send(res, 503, JSON.stringify(statusJson(a.view)), { 'Content-Type': 'application/json', 'Retry-After': '5', ...renew });
  }
  if (a.view.session.spec.type === 'desktop') {
    if (url.pathname !== base) return send(res, 404, notFoundPage(`The page ${url.pathname}`));
    return send(res, 200, await desktopPage(ctx, a.view, a.viewer, t), renew);
  }
  const user = a.viewer.user;
  const limits = ctx.config().limits;
  if ((inFlight.get(user) ?? 0) >= limits.perUserConnections || total.n >= limits.totalConnections) {
    return send(res, 429, messagePage('Too many requests', 'You have too many requests in flight to your sessions; wait a moment and reload.'), { 'Retry-After': '5' });
  }
  inFlight.set(user, (inFlight.get(user) ?? 0) + 1);
  total.n++;
  res.once('close', () => {
    const n = (inFlight.get(user) ?? 1) - 1;
    if (n > 0) inFlight.set(user, n);
    else inFlight.delete(user);
    total.n--;
  });
  for (const [k, v] of Object.entries(renew)) res.setHeader(k, v);
  // Another origin may neither frame nor embed what a session serves.
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  proxyHttp(req, res, jupyterTarget(ctx, a.view), (err) => {
    ctx.logger.info('Session did not answer', { session: `${t.namespace}/${t.name}`, error: err.message });
    send(res, 502, messagePage('Session not answering', `The JupyterLab of ${t.namespace}/${t.name} is not answering right now. Try again in a minute; if it stays like this, stop and start the session from your portal.`));
  });
}

/** Turns a one-time ticket into this origin's session cookie, then goes on to `next`. */
async function sessionCallback(ctx: GatewayContext, res: ServerResponse, url: URL, t: SessionTarget): Promise<void> {
  const label = sessionHostLabel(t.namespace, t.name);
  const claims = await ctx.tickets.consume(url.searchParams.get('ticket'), label);
  const view = ctx.index.get(t.namespace, t.name);
  if (!claims || !view || claims.uid !== view.session.metadata.uid) {
    ctx.metrics.counter('panalysis_gateway_tickets_refused_total', 'One-time tickets refused (forged, expired, replayed or for another session).').inc();
    return send(res, 403, forbiddenPage('(unknown)', 'InvalidTicket', 'This sign-in link is not valid here: it is forged, expired, already used or for another session. Open the session again from its URL.', `${gatewayOrigin(ctx.config())}/_panalysis/logout`));
  }
  const base = sessionPath(t.namespace, t.name);
  const next = safeNext(url.searchParams.get('next'), base);
  redirect(res, next.startsWith(base) ? next : base, { 'Set-Cookie': await sessionCookie(ctx, t, claims.uid, claims) });
}

/** Answers an upgrade that is refused, and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  const text = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 503: 'Service Unavailable' }[status] ?? 'Bad Request';
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`);
}
