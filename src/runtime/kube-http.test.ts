// SPDX-License-Identifier: Apache-2.0
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeTransport, isGone, isNotFound, KubeApiError } from './kube-http.ts';
import { kubeClientFromConfig } from './kube.ts';
import { createListWatch, type WatchEvent } from './list-watch.ts';
import type { KubeObject } from './resource.ts';

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  authorization: string | undefined;
  host: string | undefined;
  body: string;
}

/** A bearer token the server answers 401 to. */
let refuseToken: string | undefined;

const seen: Seen[] = [];
let server: Server;
let kc: KubeConfig;

function respond(req: IncomingMessage, res: ServerResponse, body: string): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const json = (code: number, value: unknown): void => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  if (url.pathname === '/api/v1/namespaces/ns/pods' && url.searchParams.get('watch') === 'true') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(`${JSON.stringify({ type: 'ADDED', object: { kind: 'Pod', metadata: { name: 'p', resourceVersion: '11' } } })}\n`);
    res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Pod', metadata: { resourceVersion: '12' } } })}\n`);
    res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } })}\n`);
    return;
  }
  if (url.pathname === '/api/v1/namespaces/ns/pods') {
    json(200, { kind: 'PodList', metadata: { resourceVersion: '10' }, items: [{ metadata: { name: 'p' } }] });
    return;
  }
  if (refuseToken && req.headers.authorization === `Bearer ${refuseToken}`) {
    json(401, { kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401, message: 'Unauthorized' });
    return;
  }
  if (url.pathname === '/api/v1/namespaces/ns/configmaps/missing') {
    json(404, { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'configmaps "missing" not found' });
    return;
  }
  if (url.pathname === '/api/v1/namespaces/ns/configmaps/gone') {
    res.writeHead(410, { 'content-type': 'text/plain' });
    res.end('gone');
    return;
  }
  json(200, body ? JSON.parse(body) : { kind: 'ConfigMap', metadata: { name: 'cm', creationTimestamp: '2026-01-01T00:00:00Z' } });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        contentType: req.headers['content-type'],
        authorization: req.headers.authorization,
        host: req.headers.host,
        body,
      });
      respond(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('client-node adapters on the wire', () => {
  it('sends SSA with the apply content type, query and credentials, and keeps timestamps as strings', async () => {
    seen.length = 0;
    const kube = kubeClientFromConfig(kc);
    const desired = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'ns' }, data: { a: '1' } };
    const outcome = await kube.apply(desired, { fieldManager: 'm' });
    expect(outcome).toEqual({ written: true, object: desired });
    const read = await kube.get<KubeObject>({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'cm' });
    expect(read?.metadata?.creationTimestamp).toBe('2026-01-01T00:00:00Z');
    expect(seen[0]).toEqual({
      method: 'PATCH',
      url: '/api/v1/namespaces/ns/configmaps/cm?fieldManager=m&force=true&fieldValidation=Strict',
      contentType: 'application/apply-patch+yaml',
      authorization: 'Bearer secret-token',
      host: new URL(kc.getCurrentCluster()!.server).host,
      body: JSON.stringify(desired),
    });
  });

  it('turns error statuses into KubeApiError with the Status reason', async () => {
    const transport = createKubeTransport(kc);
    const missing = transport.request({ method: 'GET', path: '/api/v1/namespaces/ns/configmaps/missing' });
    await expect(missing).rejects.toMatchObject({ code: 404, reason: 'NotFound', message: 'configmaps "missing" not found' });
    const gone = await transport.request({ method: 'GET', path: '/api/v1/namespaces/ns/configmaps/gone' }).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(KubeApiError);
    expect(isGone(gone)).toBe(true);
    expect(isNotFound(gone)).toBe(false);
  });

  it('sends a rotated token at once after the server refused the old one (401), and a new server at the next request', async () => {
    seen.length = 0;
    const local = new KubeConfig();
    local.loadFromString(kc.exportConfig());
    const transport = createKubeTransport(local);
    const path = '/api/v1/namespaces/ns/configmaps/cm';
    await transport.request({ method: 'GET', path });
    local.users[0] = { ...local.users[0]!, token: 'rotated-token' };
    // Within the credentials' lifetime the old token still goes out; the server refuses it.
    refuseToken = 'secret-token';
    await expect(transport.request({ method: 'GET', path })).rejects.toMatchObject({ code: 401 });
    await transport.request({ method: 'GET', path });
    refuseToken = undefined;
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer secret-token', 'Bearer secret-token', 'Bearer rotated-token']);
    const { port } = server.address() as AddressInfo;
    local.clusters[0] = { ...local.clusters[0]!, server: `http://localhost:${port}` };
    const answered = await transport.request<KubeObject>({ method: 'GET', path });
    expect(answered.metadata?.name).toBe('cm');
    expect(seen.at(-1)?.host).toBe(`localhost:${port}`);
  });

  it('lists and watches with bookmarks through client-node Watch', async () => {
    seen.length = 0;
    const resource = { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };
    const source = createListWatch<KubeObject>(kc, createKubeTransport(kc), { resource, namespace: 'ns', labelSelector: 'a=b' });
    const page = await source.list({ limit: 50 });
    expect(page).toEqual({ items: [{ metadata: { name: 'p' } }], resourceVersion: '10', continue: undefined });
    const events: Array<WatchEvent<KubeObject>> = [];
    const ended = new Promise<unknown>((resolve) => {
      void source.watch({ resourceVersion: '10', timeoutSeconds: 300 }, (e) => events.push(e), resolve);
    });
    expect(await ended).toBeNull();
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK', 'ERROR']);
    const watchUrl = new URL(seen[1]?.url ?? '', 'http://x');
    expect(Object.fromEntries(watchUrl.searchParams)).toEqual({
      watch: 'true',
      labelSelector: 'a=b',
      resourceVersion: '10',
      timeoutSeconds: '300',
      allowWatchBookmarks: 'true',
    });
  });
});
