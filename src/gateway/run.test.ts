// SPDX-License-Identifier: Apache-2.0
/** Start-up of the gateway against a real OpenID provider (the local one): misconfiguration is named, not guessed. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startLocalIdp } from '../cluster/local-idp.ts';
import type { LocalIdp } from '../cluster/local-idp.ts';
import { freePort } from '../cluster/wait.ts';
import { DEMO_CONFIG } from '../operator/spawn.ts';
import { noopLogger } from '../runtime/log.ts';
import { startGateway } from './run.ts';

const SECRET = 'the-right-secret';
let idp: LocalIdp;
let dir: string;

function configWith(gateway: Record<string, unknown>, secret = SECRET, withKey = true): string {
  const config = parse(readFileSync(DEMO_CONFIG, 'utf8')) as Record<string, any>;
  writeFileSync(join(dir, 'secret'), secret);
  writeFileSync(join(dir, 'key'), 'k'.repeat(48));
  config.gateway = { ...config.gateway, ...(withKey ? { cookieKeyFile: join(dir, 'key') } : {}), ...gateway };
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(config));
  return file;
}

const oidc = (o: Record<string, unknown> = {}) => ({ oidc: { issuer: idp.issuer, clientId: 'gw', clientSecretFile: join(dir, 'secret'), ...o } });
const start = (configPath: string) => startGateway({ configPath, port: 0, probePort: 0, logger: noopLogger });

describe('gateway start-up', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'panalysis-gw-run-'));
    idp = await startLocalIdp({ users: [], clients: [{ clientId: 'gw', clientSecret: SECRET, redirectUris: ['http://localhost:8080/_panalysis/callback'] }] });
  });
  afterAll(async () => {
    await idp.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names gateway.oidc when the section is missing', async () => {
    await expect(start(configWith({}))).rejects.toThrow(/^gateway\.oidc: required by the gateway/);
  });

  it('names gateway.oidc.issuer when discovery fails, the issuer differs or nothing answers', async () => {
    await expect(start(configWith(oidc({ issuer: `${idp.issuer}/realms/other` })))).rejects.toThrow(/^gateway\.oidc\.issuer: discovery at .*\/realms\/other failed/);
    await expect(start(configWith(oidc({ issuer: idp.issuer.replace('localhost', '127.0.0.1') })))).rejects.toThrow(/^gateway\.oidc\.issuer: .*issuer/);
    const closed = await freePort();
    await expect(start(configWith(oidc({ issuer: `http://127.0.0.1:${closed}` })))).rejects.toThrow(/^gateway\.oidc\.issuer: discovery at http:\/\/127\.0\.0\.1:\d+ failed/);
  });

  it('names the client secret setting when the provider refuses the client', async () => {
    await expect(start(configWith(oidc(), 'a-wrong-secret'))).rejects.toThrow(/^gateway\.oidc\.clientSecretFile: the provider refused client gw with this secret \(invalid_client\)/);
    await expect(start(configWith(oidc({ clientId: 'nobody' })))).rejects.toThrow(/invalid_client/);
  });

  it('names gateway.cookieKeyFile when there is no key', async () => {
    await expect(start(configWith(oidc(), SECRET, false))).rejects.toThrow(/^gateway\.cookieKeyFile: required/);
  });
});
