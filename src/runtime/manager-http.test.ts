// SPDX-License-Identifier: Apache-2.0
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { done } from './errors.ts';
import { noopLogger } from './log.ts';
import { Manager } from './manager.ts';
import { controllerReference, type KubeObject, type ResourceType } from './resource.ts';

type ConfigMap = KubeObject & { data?: Record<string, string> };

/** A tiny API server for ConfigMaps in one namespace: list, watch (line-delimited JSON) and apply (merge). */
class ConfigMapApi {
  readonly objects = new Map<string, ConfigMap>();
  readonly #watchers = new Set<ServerResponse>();
  #rv = 100;
  #uid = 0;

  put(obj: ConfigMap): void {
    const name = obj.metadata?.name ?? '';
    const old = this.objects.get(name);
    const stored: ConfigMap = {
      ...old,
      ...obj,
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { ...old?.metadata, ...obj.metadata, uid: old?.metadata?.uid ?? `uid-${++this.#uid}`, resourceVersion: String(++this.#rv) },
    };
    this.objects.set(name, stored);
    const line = `${JSON.stringify({ type: old ? 'MODIFIED' : 'ADDED', object: stored })}\n`;
    for (const res of this.#watchers) res.write(line);
  }

  handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/api/v1/configmaps' && url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json' });
      this.#watchers.add(res);
      res.on('close', () => this.#watchers.delete(res));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api/v1/configmaps') {
      const items = [...this.objects.values()].map(({ apiVersion: _v, kind: _k, ...rest }) => rest);
      return this.#json(res, 200, { metadata: { resourceVersion: String(this.#rv) }, items });
    }
    const match = /^\/api\/v1\/namespaces\/ns\/configmaps\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'PATCH' && match && req.headers['content-type'] === 'application/apply-patch+yaml') {
      this.put(JSON.parse(body) as ConfigMap);
      return this.#json(res, 200, this.objects.get(match[1] ?? ''));
    }
    this.#json(res, 404, { kind: 'Status', code: 404, reason: 'NotFound', message: `${req.method} ${url.pathname}` });
  }

  #json(res: ServerResponse, code: number, value: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  }
}

const CONFIGMAPS: ResourceType = { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };
const api = new ConfigMapApi();
let server: Server;
let kc: KubeConfig;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => api.handle(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Waits until `condition` holds (vitest polls it every 10 ms); fails after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  await vi.waitFor(() => expect(condition(), 'the awaited condition').toBe(true), { timeout: timeoutMs, interval: 10 });
}

describe('Manager.fromKubeConfig over HTTP', () => {
  it('converges, then makes zero writes on resyncs until something changes', async () => {
    api.put({ metadata: { name: 'a', namespace: 'ns' }, data: { greeting: 'hello' } });
    const manager = Manager.fromKubeConfig(kc, { logger: noopLogger });
    const configMaps = manager.source<ConfigMap>({ resource: CONFIGMAPS });
    manager.addController<ConfigMap>({
      name: 'derive',
      for: { resource: CONFIGMAPS },
      owns: [{ resource: CONFIGMAPS }],
      resyncMs: 100,
      reconcile: async ({ namespace, name }) => {
        const source = configMaps.store.get(namespace, name);
        if (!source || name.endsWith('-derived')) return done();
        const derived = {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `${name}-derived`, namespace, ownerReferences: [controllerReference(source)] },
          data: source.data,
        };
        await manager.kube.apply(derived, { fieldManager: 'derive' });
        return done();
      },
    });
    const running = manager.start();
    await until(() => api.objects.get('a-derived')?.data?.['greeting'] === 'hello');
    await until(() => manager.kube.skipped.apply >= 3);
    expect(manager.kube.writes).toMatchObject({ apply: 1, applyStatus: 0, create: 0, delete: 0, patch: 0 });

    api.put({ metadata: { name: 'a', namespace: 'ns' }, data: { greeting: 'bye' } });
    await until(() => api.objects.get('a-derived')?.data?.['greeting'] === 'bye');
    expect(manager.kube.writes.apply).toBe(2);
    await manager.stop();
    await running;
  });
});
