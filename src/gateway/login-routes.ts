// SPDX-License-Identifier: Apache-2.0
/**
 * Routes on the gateway's own host: sign-in with the OpenID provider, the callback, sign
 * out (POST with a CSRF token), the hand-over of a login to one session's origin (a
 * one-time ticket), and the list of the user's sessions.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sessionPath } from '../desired/names.ts';
import { sessionHostLabel, sessionOrigin, sessionUrl } from '../desired/session-url.ts';
import { decideOpen } from '../policy/session-access.ts';
import { authorizeViewer } from './authorize.ts';
import { cookieNames, gatewayOrigin, loginOf, loginTtlMs, secureCookies } from './context.ts';
import type { GatewayContext, Login } from './context.ts';
import { PAGE_SECURITY_HEADERS, parseCookies, readForm, redirect, safeNext, send, serializeCookie } from './http.ts';
import type { LoginTransaction } from './oidc.ts';
import { forbiddenPage, homePage, logoutPage, messagePage, notFoundPage } from './pages.ts';

const OIDC_TX_TTL_S = 600;

/** The CSRF token of a login (an HMAC of its id: nothing to store). */
export function csrfToken(ctx: GatewayContext, login: Login): string {
  return createHmac('sha256', ctx.sealer.keyOf('csrf')).update(login.sid).digest('base64url');
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Sends the browser to the provider, remembering `next` (a path on this host). */
export async function beginLogin(ctx: GatewayContext, res: ServerResponse, next: string): Promise<void> {
  const { url, transaction } = await ctx.oidc.begin(safeNext(next));
  const sealed = await ctx.sealer.seal('oidc', { ...transaction }, OIDC_TX_TTL_S);
  const config = ctx.config();
  // Lax: the provider's redirect back is a top-level GET from another site.
  redirect(res, url, { 'Set-Cookie': serializeCookie(cookieNames(config).oidc, sealed, { secure: secureCookies(config), maxAgeS: OIDC_TX_TTL_S, sameSite: 'Lax' }) });
  ctx.metrics.counter('panalysis_gateway_logins_total', 'Logins by outcome.', ['outcome']).inc({ outcome: 'started' });
}

async function callback(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const config = ctx.config();
  const names = cookieNames(config);
  const logins = ctx.metrics.counter('panalysis_gateway_logins_total', 'Logins by outcome.', ['outcome']);
  const tx = await ctx.sealer.open<LoginTransaction & Record<string, unknown>>('oidc', parseCookies(req.headers.cookie).get(names.oidc));
  const clearTx = serializeCookie(names.oidc, '', { secure: secureCookies(config), maxAgeS: 0, sameSite: 'Lax' });
  if (!tx) {
    logins.inc({ outcome: 'no-transaction' });
    send(res, 400, messagePage('Sign-in expired', 'This sign-in was not started here or took longer than 10 minutes. Start again.', [['Sign in', '/_panalysis/login']]), { 'Set-Cookie': clearTx });
    return;
  }
  const callbackUrl = new URL(`${gatewayOrigin(config)}${url.pathname}${url.search}`);
  try {
    const id = await ctx.oidc.complete(callbackUrl, tx);
    const exp = ctx.now() + loginTtlMs(config);
    const login: Login = { user: id.user, groups: id.groups, exp, sid: randomUUID(), ...(id.idToken ? { idToken: id.idToken } : {}) };
    const { exp: lexp, ...rest } = login;
    const sealed = await ctx.sealer.seal('login', { ...rest, lexp }, Math.ceil((exp - ctx.now()) / 1000));
    const cookie = serializeCookie(names.login, sealed, { secure: secureCookies(config), maxAgeS: (exp - ctx.now()) / 1000, sameSite: 'Lax' });
    logins.inc({ outcome: 'ok' });
    ctx.logger.info('Signed in', { user: id.user });
    redirect(res, safeNext(tx.next), { 'Set-Cookie': [cookie, clearTx] });
  } catch (err) {
    logins.inc({ outcome: 'refused' });
    ctx.logger.info('Sign-in failed', { error: (err as Error).message });
    send(res, 400, messagePage('Sign-in failed', `The sign-in could not be completed: ${(err as Error).message}`, [['Try again', '/_panalysis/login']]), { 'Set-Cookie': clearTx });
  }
}

async function logout(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const config = ctx.config();
  const login = await loginOf(ctx, req);
  if (req.method !== 'POST') {
    if (!login) return redirect(res, '/_panalysis/logged-out');
    // The form's response redirects to the provider, and CSP form-action applies to redirects too.
    const provider = config.oidc ? new URL(config.oidc.issuer).origin : '';
    const csp = PAGE_SECURITY_HEADERS['Content-Security-Policy']!.replace("form-action 'self'", `form-action 'self' ${provider}`);
    return send(res, 200, logoutPage(login.user, csrfToken(ctx, login)), { 'Content-Security-Policy': csp });
  }
  const form = await readForm(req).catch(() => new URLSearchParams());
  if (!login || !sameToken(form.get('csrf') ?? '', csrfToken(ctx, login))) {
    return send(res, 403, messagePage('Sign-out refused', 'This sign-out request did not come from the gateway\u2019s own page (missing or wrong CSRF token).', [['Sign out', '/_panalysis/logout']]));
  }
  const clear = serializeCookie(cookieNames(config).login, '', { secure: secureCookies(config), maxAgeS: 0, sameSite: 'Lax' });
  const after = config.oidc?.postLogoutRedirectUri ?? `${gatewayOrigin(config)}/_panalysis/logged-out`;
  ctx.logger.info('Signed out', { user: login.user });
  redirect(res, ctx.oidc.logoutUrl(login.idToken, after) ?? after, { 'Set-Cookie': clear });
}

/** Hands the login to a session's origin: checks access, then redirects with a one-time ticket. */
async function authorize(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const config = ctx.config();
  const [namespace, name, extra] = (url.searchParams.get('session') ?? '').split('/');
  const view = namespace && name && extra === undefined ? ctx.index.get(namespace, name) : undefined;
  if (!view) return send(res, 404, notFoundPage(`The session ${url.searchParams.get('session') ?? ''}`));
  const login = await loginOf(ctx, req);
  if (!login) return beginLogin(ctx, res, `${url.pathname}${url.search}`);
  const decision = await authorizeViewer(view.session, login, ctx.access);
  if (!decision.allow) {
    ctx.metrics.counter('panalysis_gateway_denied_total', 'Requests refused by the access rules, by reason.', ['reason']).inc({ reason: decision.reason });
    return send(res, decision.status, forbiddenPage(login.user, decision.reason, decision.message, '/_panalysis/logout'));
  }
  const path = sessionPath(namespace!, name!);
  const next = safeNext(url.searchParams.get('next'), path);
  const ticket = await ctx.tickets.issue({ user: login.user, groups: login.groups, label: sessionHostLabel(namespace!, name!), uid: view.session.metadata.uid!, loginExp: login.exp });
  const target = new URL('/_panalysis/session-callback', sessionOrigin(config, namespace!, name!));
  target.searchParams.set('ticket', ticket);
  target.searchParams.set('next', next.startsWith(path) ? next : path);
  redirect(res, target.href);
}

async function home(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const login = await loginOf(ctx, req);
  if (!login) return beginLogin(ctx, res, '/');
  const config = ctx.config();
  const mine = ctx.index.sessions()
    .map((s) => ({ s, d: decideOpen(s, login, { kind: 'none' }) }))
    .filter(({ d }) => d.allow)
    .map(({ s, d }) => ({ ref: `${s.metadata.namespace}/${s.metadata.name}`, phase: s.status?.phase ?? 'Pending', url: sessionUrl(config, s.metadata.namespace!, s.metadata.name!), role: d.allow ? d.role : '' }));
  send(res, 200, homePage(login.user, mine));
}

/**
 * Handles a request to the gateway's own host under `/_panalysis/` or `/`; returns false
 * when the path is not one of these routes.
 */
export async function handleGatewayRoute(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  switch (url.pathname) {
    case '/':
      await home(ctx, req, res);
      return true;
    case '/_panalysis/login':
      await beginLogin(ctx, res, url.searchParams.get('next') ?? '/');
      return true;
    case '/_panalysis/callback':
      await callback(ctx, req, res, url);
      return true;
    case '/_panalysis/logout':
      await logout(ctx, req, res);
      return true;
    case '/_panalysis/logged-out':
      send(res, 200, messagePage('Signed out', 'You are signed out of the gateway.', [['Sign in again', '/_panalysis/login']]));
      return true;
    case '/_panalysis/authorize':
      await authorize(ctx, req, res, url);
      return true;
    default:
      return false;
  }
}
