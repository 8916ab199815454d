// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPki } from '../cluster/pki.ts';
import { createKubeTransport } from './kube-http.ts';

describe('createKubeTransport over TLS', () => {
  let dir: string;
  let server: Server;
  let handshakes = 0;
  let kc: KubeConfig;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kube-http-tls-'));
    const pki = createPki(dir);
    server = createServer({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"kind":"Status"}');
    });
    server.on('secureConnection', () => handshakes++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `https://127.0.0.1:${port}`, caData: readFileSync(pki.caCert).toString('base64') }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('reuses its connections: forty requests in a row cost a handshake or two, not forty', async () => {
    const transport = createKubeTransport(kc);
    for (let i = 0; i < 40; i++) await transport.request({ method: 'GET', path: '/api/v1/namespaces/ns/pods/p' });
    expect(handshakes).toBeGreaterThanOrEqual(1);
    expect(handshakes).toBeLessThanOrEqual(2);
  });

  it('opens a new connection for a new TLS identity (another server in the kubeconfig)', async () => {
    const before = handshakes;
    const transport = createKubeTransport(kc);
    await transport.request({ method: 'GET', path: '/api' });
    const port = (server.address() as AddressInfo).port;
    kc.clusters[0] = { ...kc.clusters[0]!, server: `https://localhost:${port}`, tlsServerName: '127.0.0.1' };
    await transport.request({ method: 'GET', path: '/api' }).catch(() => undefined);
    expect(handshakes - before).toBeGreaterThanOrEqual(2);
  });
});
