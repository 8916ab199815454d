// SPDX-License-Identifier: Apache-2.0
/**
 * The parts a scientist's browser meets, started for a test: the local OpenID provider with
 * the demo users, and the gateway (in this process, on the test cluster) configured for it,
 * sharing one configuration file with the operator so that `status.url` points at it.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { readFileSync } from 'node:fs';
import { startLocalIdp } from '../../src/cluster/local-idp.ts';
import type { LocalIdp } from '../../src/cluster/local-idp.ts';
import { freePorts } from '../../src/cluster/wait.ts';
import { startGateway } from '../../src/gateway/run.ts';
import type { Gateway } from '../../src/gateway/run.ts';
import { noopLogger } from '../../src/runtime/log.ts';
import { kubeConfig } from './helpers.ts';

/** Demo users of the provider; the static directory of the demo configuration knows them. */
export const PASSWORDS: Record<string, string> = { alice: 'alice-pw', bob: 'bob-pw', carol: 'carol-pw', dave: 'dave-pw' };
export const CLIENT_ID = 'panalysis-gateway';

/** Everything started, and how to reach it. */
export interface GatewayRig {
  idp: LocalIdp;
  gateway: Gateway;
  /** The configuration file (operator and gateway). */
  configFile: string;
  /** `http://localhost:<port>`. */
  baseUrl: string;
  port: number;
  cookieKey: Buffer;
  stop(): Promise<void>;
}

/**
 * Writes `config` (an operator configuration object) with a `gateway` section for a fresh
 * provider into `dir/operator.yaml`, starts the provider and the gateway.
 */
export async function startGatewayRig(dir: string, config: Record<string, any>, o: { clientSecret?: string; registeredSecret?: string } = {}): Promise<GatewayRig> {
  const [port] = await freePorts(1);
  const baseUrl = `http://localhost:${port}`;
  const secret = o.clientSecret ?? randomBytes(24).toString('base64url');
  const idp = await startLocalIdp({
    users: Object.entries(PASSWORDS).map(([username, password]) => ({ username, password, name: username, email: `${username}@facility.example`, groups: [] })),
    clients: [{ clientId: CLIENT_ID, clientSecret: o.registeredSecret ?? secret, redirectUris: [`${baseUrl}/_panalysis/callback`], postLogoutRedirectUris: [`${baseUrl}/_panalysis/logged-out`] }],
  });
  const cookieKey = randomBytes(48);
  writeFileSync(join(dir, 'cookie-key'), cookieKey.toString('base64'));
  writeFileSync(join(dir, 'client-secret'), `${secret}\n`);
  const cookieKeyText = Buffer.from(cookieKey.toString('base64'));
  config.gateway = {
    ...config.gateway,
    baseUrl,
    routing: 'subdomain',
    sessionDomain: 'sessions.localhost',
    cookieKeyFile: join(dir, 'cookie-key'),
    oidc: { issuer: idp.issuer, clientId: CLIENT_ID, clientSecretFile: join(dir, 'client-secret'), scopes: ['openid', 'profile', 'email', 'groups'] },
  };
  const configFile = join(dir, 'operator.yaml');
  writeFileSync(configFile, stringify(config));
  let gateway: Gateway;
  try {
    gateway = await startGateway({ configPath: configFile, port: port!, host: '127.0.0.1', probePort: 0, kubeconfig: kubeConfig(), logger: noopLogger, configPollMs: 500 });
  } catch (err) {
    await idp.stop();
    throw err;
  }
  return {
    idp, gateway, configFile, baseUrl, port: port!, cookieKey: cookieKeyText,
    stop: async () => {
      await gateway.stop();
      await idp.stop();
    },
  };
}

/** Reads a YAML configuration file into an object to change. */
export function readConfig(file: string): Record<string, any> {
  return parse(readFileSync(file, 'utf8')) as Record<string, any>;
}

/** One raw HTTP exchange with the gateway as `host` (no redirects followed, paths sent as they are). */
export function rawRequest(port: number, host: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { host, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A WebSocket upgrade as `host`: the status line's code (101 when accepted). */
export function rawUpgrade(port: number, host: string, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64'), ...headers } });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}
