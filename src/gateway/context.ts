// SPDX-License-Identifier: Apache-2.0
/** What every part of the gateway shares: configuration, caches, keys and the login state. */
import type { IncomingMessage } from 'node:http';
import type { GatewayConfig } from '../config/gateway.ts';
import type { Logger } from '../runtime/log.ts';
import type { MetricsRegistry } from '../runtime/metrics.ts';
import { parseDuration } from '../api/quantity.ts';
import type { ActivityRecorder } from './activity.ts';
import type { AccessSources } from './authorize.ts';
import { cookieName, parseCookies } from './http.ts';
import type { OidcClient } from './oidc.ts';
import type { Sealer } from './seal.ts';
import type { SessionIndex } from './session-index.ts';
import type { Tickets } from './tickets.ts';

/** A signed-in user, as a login or session cookie says. */
export interface Login {
  user: string;
  groups: string[];
  /** When the login ends (ms). */
  exp: number;
  /** The ID token for the logout hint, when it fitted the cookie. */
  idToken?: string;
  /** A random id of this login (CSRF tokens derive from it). */
  sid: string;
}

/** The gateway's shared parts. */
export interface GatewayContext {
  config: () => GatewayConfig;
  index: SessionIndex;
  sealer: Sealer;
  tickets: Tickets;
  oidc: OidcClient;
  access: AccessSources;
  logger: Logger;
  metrics: MetricsRegistry;
  /** Coarse activity per session, for idle culling. */
  activity?: ActivityRecorder;
  now: () => number;
}

/** Cookie names (with `__Host-` over https). */
export function cookieNames(config: GatewayConfig): { login: string; oidc: string; session: string } {
  const secure = config.baseUrl.startsWith('https:');
  return { login: cookieName('panalysis-login', secure), oidc: cookieName('panalysis-oidc', secure), session: cookieName('panalysis-session', secure) };
}

/** True when cookies must be Secure (the gateway is served over https). */
export function secureCookies(config: GatewayConfig): boolean {
  return config.baseUrl.startsWith('https:');
}

/** The login the request's login cookie holds, if valid and not expired. */
export async function loginOf(ctx: GatewayContext, req: IncomingMessage): Promise<Login | undefined> {
  const value = parseCookies(req.headers.cookie).get(cookieNames(ctx.config()).login);
  // The login's end is `lexp` (ms); the JWT's own `exp` (s) is the cookie's and may not be reused.
  const c = await ctx.sealer.open<Omit<Login, 'exp'> & { lexp: number }>('login', value);
  if (!c || typeof c.user !== 'string' || !Array.isArray(c.groups) || typeof c.lexp !== 'number' || c.lexp < ctx.now()) return undefined;
  return { user: c.user, groups: c.groups, exp: c.lexp, sid: c.sid, ...(c.idToken ? { idToken: c.idToken } : {}) };
}

/** The gateway's origin (`baseUrl` without path). */
export function gatewayOrigin(config: GatewayConfig): string {
  return new URL(config.baseUrl).origin;
}

/** The gateway's host name (no port). */
export function gatewayHost(config: GatewayConfig): string {
  return new URL(config.baseUrl).hostname.toLowerCase();
}

/** `loginTtl` in ms. */
export function loginTtlMs(config: GatewayConfig): number {
  return parseDuration(config.loginTtl);
}
