// SPDX-License-Identifier: Apache-2.0
/**
 * The way in of `panalysis up`: a local OpenID provider with the demo user and the gateway
 * in this process, on `http://localhost:<port>` (8080 when free) with every session on a
 * `*.sessions.localhost` origin of its own, which browsers resolve to this machine.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { startLocalIdp } from '../cluster/local-idp.ts';
import type { LocalIdp } from '../cluster/local-idp.ts';
import { freePort } from '../cluster/wait.ts';
import { startGateway } from '../gateway/run.ts';
import type { Gateway } from '../gateway/run.ts';
import { jsonLogger } from '../runtime/log.ts';
import { createServer } from 'node:net';

/** The demo login printed for newcomers (the provider listens on loopback only). */
export const DEMO_LOGIN = { username: 'demo', password: 'demo' } as const;
const CLIENT_ID = 'panalysis-gateway';

/** The provider and what the configuration's `gateway` section needs. */
export interface DemoAccess {
  idp: LocalIdp;
  port: number;
  baseUrl: string;
  /** The `gateway` section of the demo configuration. */
  gatewayConfig: Record<string, unknown>;
  gateway?: Gateway;
  stop(): Promise<void>;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Starts the provider and prepares the gateway's settings (secrets as files in `dir`). */
export async function prepareDemoAccess(dir: string): Promise<DemoAccess> {
  const port = (await portFree(8080)) ? 8080 : await freePort();
  const baseUrl = `http://localhost:${port}`;
  const secret = randomBytes(24).toString('base64url');
  const idp = await startLocalIdp({
    users: [{ username: DEMO_LOGIN.username, password: DEMO_LOGIN.password, name: 'Demo Scientist', email: 'demo@facility.example', groups: ['pdemo'] }],
    clients: [{ clientId: CLIENT_ID, clientSecret: secret, redirectUris: [`${baseUrl}/_panalysis/callback`], postLogoutRedirectUris: [`${baseUrl}/_panalysis/logged-out`] }],
  });
  writeFileSync(join(dir, 'client-secret'), secret, { mode: 0o600 });
  writeFileSync(join(dir, 'cookie-key'), randomBytes(48).toString('base64'), { mode: 0o600 });
  const access: DemoAccess = {
    idp,
    port,
    baseUrl,
    gatewayConfig: {
      baseUrl,
      routing: 'subdomain',
      sessionDomain: 'sessions.localhost',
      cookieKeyFile: join(dir, 'cookie-key'),
      oidc: { issuer: idp.issuer, clientId: CLIENT_ID, clientSecretFile: join(dir, 'client-secret'), scopes: ['openid', 'profile', 'email', 'groups'] },
    },
    stop: async () => {
      await access.gateway?.stop();
      await idp.stop();
    },
  };
  return access;
}

/** Starts the gateway of `access` on the configuration file `configPath`; its log shows errors only. */
export async function startDemoGateway(access: DemoAccess, configPath: string, kubeconfig: KubeConfig): Promise<Gateway> {
  access.gateway = await startGateway({ configPath, port: access.port, host: '127.0.0.1', probePort: 0, kubeconfig, logger: jsonLogger({ level: 'error' }) });
  return access.gateway;
}
