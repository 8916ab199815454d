// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { KubeApiError } from './kube-http.ts';
import { bodyHash, createKubeClient } from './kube.ts';
import type { KubeObject, ObjectRef } from './resource.ts';
import { RecordingTransport } from './testing/recording-transport.ts';

const MANAGER = { fieldManager: 'session-controller' };
const configMap = (data: Record<string, string>): KubeObject & { data: Record<string, string> } => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'cm', namespace: 'ns' },
  data,
});

function setup() {
  const transport = new RecordingTransport();
  const live = new Map<string, KubeObject>();
  const kube = createKubeClient({ transport, live: (ref: ObjectRef) => live.get(`${ref.kind}/${ref.name}`) });
  return { transport, live, kube };
}

describe('KubeClient adapter', () => {
  it('applies with SSA on the real path', async () => {
    const { transport, kube } = setup();
    const outcome = await kube.apply(configMap({ a: '1' }), MANAGER);
    expect(outcome.written).toBe(true);
    expect(transport.requests).toEqual([
      {
        method: 'PATCH',
        path: '/api/v1/namespaces/ns/configmaps/cm',
        query: { fieldManager: 'session-controller', force: true, fieldValidation: 'Strict' },
        body: configMap({ a: '1' }),
        contentType: 'application/apply-patch+yaml',
      },
    ]);
    expect(kube.writes.apply).toBe(1);
  });

  it('creates with POST (never over an existing object) and skips applying the same body afterwards', async () => {
    const { transport, live, kube } = setup();
    const outcome = await kube.createApplied(configMap({ a: '1' }), MANAGER);
    expect(outcome.written).toBe(true);
    expect(transport.requests[0]).toMatchObject({ method: 'POST', path: '/api/v1/namespaces/ns/configmaps', query: { fieldManager: 'session-controller', fieldValidation: 'Strict' } });
    live.set('ConfigMap/cm', configMap({ a: '1' }));
    expect((await kube.apply(configMap({ a: '1' }), MANAGER)).written).toBe(false);
    transport.handler = () => ({ error: new KubeApiError(409, 'AlreadyExists', 'configmaps "cm" already exists') });
    await expect(kube.createApplied(configMap({ a: '2' }), MANAGER)).rejects.toMatchObject({ code: 409 });
    expect(transport.writes().map((r) => r.method)).toEqual(['POST', 'POST']);
  });

  it('skips applying what it just created when the caller passes the create\'s answer before the cache shows it', async () => {
    const { transport, kube } = setup();
    transport.handler = (req) => ({ body: { ...(req.body as KubeObject), metadata: { ...(req.body as KubeObject).metadata, uid: 'u', resourceVersion: '7' } } });
    const created = await kube.createApplied(configMap({ a: '1' }), MANAGER);
    if (!created.written) throw new Error('expected a create');
    // The cache does not show it yet: without the caller's view the apply goes out, with it nothing is sent.
    expect((await kube.apply(configMap({ a: '1' }), { ...MANAGER, live: created.object })).written).toBe(false);
    expect((await kube.apply(configMap({ a: '2' }), { ...MANAGER, live: created.object })).written).toBe(true);
    expect((await kube.apply(configMap({ a: '2' }), MANAGER)).written).toBe(true);
    expect(transport.writes().map((r) => r.method)).toEqual(['POST', 'PATCH', 'PATCH']);
  });

  it('skips an unchanged apply while the live object still holds our fields', async () => {
    const { transport, live, kube } = setup();
    await kube.apply(configMap({ a: '1' }), MANAGER);
    expect((await kube.apply(configMap({ a: '1' }), MANAGER)).written).toBe(true);
    live.set('ConfigMap/cm', { ...configMap({ a: '1', other: 'x' }), metadata: { name: 'cm', namespace: 'ns', uid: 'u' } });
    expect((await kube.apply(configMap({ a: '1' }), MANAGER)).written).toBe(false);
    expect(kube.writes.apply).toBe(2);
    expect(kube.skipped.apply).toBe(1);
    live.set('ConfigMap/cm', configMap({ a: 'edited' }));
    expect((await kube.apply(configMap({ a: '1' }), MANAGER)).written).toBe(true);
    expect(transport.writes()).toHaveLength(3);
  });

  it('applies again when a field was dropped from the desired object', async () => {
    const { live, kube } = setup();
    await kube.apply(configMap({ a: '1', b: '2' }), MANAGER);
    live.set('ConfigMap/cm', configMap({ a: '1', b: '2' }));
    expect((await kube.apply(configMap({ a: '1' }), MANAGER)).written).toBe(true);
    expect((await kube.apply(configMap({ a: '1' }), MANAGER)).written).toBe(false);
  });

  it('does not remember a failed apply', async () => {
    const { transport, live, kube } = setup();
    live.set('ConfigMap/cm', configMap({ a: '1' }));
    transport.handler = () => ({ error: new KubeApiError(500, 'InternalError', 'etcd timeout') });
    await expect(kube.apply(configMap({ a: '1' }), MANAGER)).rejects.toThrow('etcd timeout');
    transport.handler = (req) => ({ body: req.body });
    expect((await kube.apply(configMap({ a: '1' }), MANAGER)).written).toBe(true);
    expect(kube.writes.apply).toBe(2);
  });

  it('applies status to the /status subresource', async () => {
    const { transport, live, kube } = setup();
    const ref = { apiVersion: 'panalysis.example/v1alpha1', kind: 'AnalysisSession', namespace: 'ns', name: 's' };
    transport.handler = (req) =>
      req.method === 'GET'
        ? { body: { resources: [{ name: 'analysissessions', kind: 'AnalysisSession', namespaced: true }, { name: 'analysissessions/status', kind: 'AnalysisSession', namespaced: true }] } }
        : { body: req.body };
    const status = { conditions: [{ type: 'Ready', status: 'True' }] };
    await kube.applyStatus(ref, status, MANAGER);
    live.set('AnalysisSession/s', { ...ref, metadata: { name: 's', namespace: 'ns' }, status } as KubeObject);
    await kube.applyStatus(ref, status, MANAGER);
    expect(transport.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /apis/panalysis.example/v1alpha1',
      'PATCH /apis/panalysis.example/v1alpha1/namespaces/ns/analysissessions/s/status',
    ]);
    expect(transport.requests[1]?.body).toEqual({
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: 's', namespace: 'ns' },
      status,
    });
    expect(kube.writes.applyStatus).toBe(1);
    expect(kube.skipped.applyStatus).toBe(1);
  });

  it('refuses a namespaced object without a namespace before sending anything', async () => {
    const { transport, kube } = setup();
    await expect(kube.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }, MANAGER)).rejects.toThrow(TypeError);
    expect(transport.requests).toEqual([]);
    expect(kube.writes.apply).toBe(0);
  });

  it('maps 404 to undefined on get and false on delete, and sends delete preconditions', async () => {
    const { transport, kube } = setup();
    transport.handler = () => ({ error: new KubeApiError(404, 'NotFound', 'not found') });
    const ref = { apiVersion: 'v1', kind: 'Secret', namespace: 'ns', name: 's' };
    expect(await kube.get(ref)).toBeUndefined();
    expect(await kube.delete(ref, { preconditions: { uid: 'u1' } })).toBe(false);
    expect(transport.requests[1]).toMatchObject({
      method: 'DELETE',
      path: '/api/v1/namespaces/ns/secrets/s',
      body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: 'u1' } },
    });
    expect(kube.writes.delete).toBe(1);
  });

  it('sends JSON patches, creates and replaces with their verbs and counts them', async () => {
    const { transport, kube } = setup();
    const ref = { apiVersion: 'v1', kind: 'Namespace', name: 'team' };
    await kube.jsonPatch(ref, [{ op: 'test', path: '/metadata/resourceVersion', value: '5' }]);
    await kube.create({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'ns' } });
    await kube.replace({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'ns', resourceVersion: '7' } });
    expect(transport.requests.map((r) => [r.method, r.path, r.contentType])).toEqual([
      ['PATCH', '/api/v1/namespaces/team', 'application/json-patch+json'],
      ['POST', '/apis/apps/v1/namespaces/ns/deployments', undefined],
      ['PUT', '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l', undefined],
    ]);
    expect(kube.writes).toEqual({ apply: 0, applyStatus: 0, delete: 0, patch: 1, create: 1, replace: 1, replaceStatus: 0 });
  });

  it('writes a status only as a compare-and-swap: a PUT to /status carrying the resourceVersion it read', async () => {
    const { transport, kube } = setup();
    const quota = { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'ns', resourceVersion: '42' }, status: { nextRun: 2 } };
    await kube.replaceStatus(quota);
    expect(transport.requests[0]).toMatchObject({ method: 'PUT', path: '/api/v1/namespaces/ns/resourcequotas/q/status', body: { metadata: { resourceVersion: '42' }, status: { nextRun: 2 } } });
    await expect(kube.replaceStatus({ ...quota, metadata: { name: 'q', namespace: 'ns' } })).rejects.toThrow(/needs metadata.resourceVersion/);
    expect(kube.writes.replaceStatus).toBe(1);
  });

  it('lists every page and fills in apiVersion and kind', async () => {
    const { transport, kube } = setup();
    transport.handler = (req) =>
      req.query?.['continue'] === undefined
        ? { body: { items: [{ metadata: { name: 'a' } }], metadata: { continue: 'next' } } }
        : { body: { items: [{ metadata: { name: 'b' } }], metadata: { continue: '' } } };
    const pods = await kube.list({ apiVersion: 'v1', kind: 'Pod' }, { namespace: 'ns', labelSelector: 'app=x' });
    expect(pods.map((p) => [p.kind, p.metadata?.name])).toEqual([['Pod', 'a'], ['Pod', 'b']]);
    expect(transport.requests[0]).toMatchObject({ path: '/api/v1/namespaces/ns/pods', query: { labelSelector: 'app=x', limit: 500 } });
  });
});

describe('KubeClient with an applied-hash annotation (restart-safe skip rule)', () => {
  const ANNOTATION = 'example.io/applied-hash';
  function fresh(live: Map<string, KubeObject>) {
    const transport = new RecordingTransport();
    const kube = createKubeClient({ transport, live: (ref: ObjectRef) => live.get(`${ref.kind}/${ref.name}`), appliedHashAnnotation: ANNOTATION });
    return { transport, kube };
  }

  it('stamps the hash of the body and, in a new process, skips when the live object carries it', async () => {
    const live = new Map<string, KubeObject>();
    const first = fresh(live);
    await first.kube.apply(configMap({ a: '1' }), MANAGER);
    const sent = first.transport.requests[0]!.body as KubeObject;
    const hash = sent.metadata?.annotations?.[ANNOTATION];
    expect(hash).toBe(bodyHash(configMap({ a: '1' })));
    live.set('ConfigMap/cm', { ...sent, metadata: { ...sent.metadata, uid: 'u', resourceVersion: '7' } });
    const restarted = fresh(live);
    expect((await restarted.kube.apply(configMap({ a: '1' }), MANAGER)).written).toBe(false);
    expect(restarted.kube.writes.apply).toBe(0);
  });

  it('applies when the body changed (a dropped field is sent, so the server removes it) or someone edited our field', async () => {
    const live = new Map<string, KubeObject>();
    const first = fresh(live);
    await first.kube.apply(configMap({ a: '1', b: '2' }), MANAGER);
    const sent = first.transport.requests[0]!.body as KubeObject;
    live.set('ConfigMap/cm', sent);
    expect((await fresh(live).kube.apply(configMap({ a: '1' }), MANAGER)).written).toBe(true);
    live.set('ConfigMap/cm', { ...sent, data: { a: 'edited', b: '2' } } as KubeObject);
    expect((await fresh(live).kube.apply(configMap({ a: '1', b: '2' }), MANAGER)).written).toBe(true);
  });

  it('skips a status apply only when the live status equals the desired one exactly', async () => {
    const live = new Map<string, KubeObject>();
    live.set('ConfigMap/cm', { ...configMap({}), status: { phase: 'Running', url: 'u' } } as KubeObject);
    const { kube } = fresh(live);
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'cm' };
    expect((await kube.applyStatus(ref, { url: 'u', phase: 'Running' }, MANAGER)).written).toBe(false);
    expect((await kube.applyStatus(ref, { phase: 'Running' }, MANAGER)).written).toBe(true);
  });
});
