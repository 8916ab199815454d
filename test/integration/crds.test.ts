// SPDX-License-Identifier: Apache-2.0
/**
 * The generated CRDs in a real kube-apiserver: installed and established, invalid
 * objects refused with a message naming the field, samples accepted, kubectl views.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ApiextensionsV1Api } from '@kubernetes/client-node';
import { apiErrorMessage, freshNamespace, kubeConfig, kubectl, objects } from './helpers.ts';
import { deleteFreshNamespaces } from './cleanup.ts';

const samplesDir = join(import.meta.dirname, '..', '..', 'manifests', 'samples');
type Obj = Record<string, any>;
const sample = (file: string): Obj => parse(readFileSync(join(samplesDir, file), 'utf8')) as Obj;
const session = () => sample('analysissession-jupyter.yaml');
const dataset = () => sample('datasetmount-nfs.yaml');
const quota = () => sample('resourcequota.yaml');
/** A quota with `hard` as its only limits. */
const quotaWith = (hard: Obj): Obj => ({ ...quota(), spec: { hard } });
const usageRecord = (): Obj => ({
  apiVersion: 'panalysis.io/v1alpha1',
  kind: 'UsageRecord',
  metadata: { name: 'columns-nb-1' },
  spec: {
    proposal: '20231234', quota: 'policy', session: 'columns-nb', sessionUID: '6f1c2d3e-0000-4000-8000-000000000001', run: 1, user: 'alice',
    profile: 'jupyter-scipy', type: 'jupyter', gpus: 1, gpuFlavour: 'a100', cpuMillis: 2000, memoryBytes: 8 * 2 ** 30,
    start: '2026-12-07T08:00:00Z', end: '2026-12-07T10:00:00Z', gpuSeconds: 7200, cpuMilliSeconds: 14_400_000, endReason: 'Stopped',
    imageDigest: 'sha256:' + 'a'.repeat(64),
  },
});

let ns: string;
beforeAll(async () => {
  ns = await freshNamespace('crds', { 'panalysis.io/proposal': '20231234' });
});
// The samples include a GPU desktop for a member: left behind, a later operator would start it.
afterAll(async () => {
  await deleteFreshNamespaces();
});

async function createIn(obj: Obj): Promise<void> {
  obj.metadata.namespace = ns;
  await objects().create(obj as never);
}

describe('CRDs', () => {
  it('are installed and established', async () => {
    const api = kubeConfig().makeApiClient(ApiextensionsV1Api);
    for (const name of ['analysissessions.panalysis.io', 'datasetmounts.panalysis.io', 'resourcequotas.panalysis.io', 'usagerecords.panalysis.io']) {
      const crd = await api.readCustomResourceDefinition({ name });
      expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
      expect(crd.spec.names.categories).toContain('panalysis');
    }
  });

  it('accept every sample', async () => {
    for (const file of readdirSync(samplesDir).filter((f) => f.endsWith('.yaml'))) {
      await createIn(sample(file));
    }
    const out = await kubectl('get', 'panalysis', '-A');
    for (const name of ['alice-notebook', 'bob-desktop', 'raw', 'processed', 'policy']) expect(out).toContain(name);
  });

  it('show in kubectl get pquota with the printer columns', async () => {
    await createIn({ ...quota(), metadata: { name: 'columns' } });
    await createIn({ ...session(), metadata: { name: 'columns-nb' } });
    const out = await kubectl('get', 'pquota', '-n', ns);
    expect(out.split('\n')[0]).toMatch(/NAME\s+WINDOW\s+SESSIONS\s+GPU\s+GPU-H\s+WAITING\s+READY\s+AGE/);
    expect((await kubectl('get', 'pquota', '-n', ns, '-o', 'wide')).split('\n')[0]).toMatch(/GPU-H\s+CPU-H\s+WAITING\s+ON-EXCEEDED\s+READY/);
    expect(out).toContain('columns');
    const sessions = await kubectl('get', 'analysissessions.panalysis.io', '-n', ns);
    expect(sessions.split('\n')[0]).toMatch(/NAME\s+USER\s+TYPE\s+GPU\s+PHASE\s+URL\s+AGE/);
    expect(sessions).toMatch(/columns-nb\s+alice\s+jupyter/);
  });

  // Each case: what a portal or admin might send, and the words the refusal must contain.
  const invalid: Record<string, { obj: () => Obj; want: RegExp[] }> = {
    'session of an unknown type': { obj: () => ({ ...session(), spec: { ...session().spec, type: 'vm' } }), want: [/spec\.type/, /"jupyter", "desktop"/] },
    'session without a user': { obj: () => { const o = session(); delete o.spec.user; return o; }, want: [/spec\.user/, /Required/] },
    'session without a profile': { obj: () => { const o = session(); delete o.spec.profile; return o; }, want: [/spec\.profile/, /Required/] },
    'session with a numeric user': { obj: () => ({ ...session(), spec: { ...session().spec, user: 1000 } }), want: [/spec\.user/, /string/] },
    'session with a negative cpu': { obj: () => ({ ...session(), spec: { ...session().spec, resources: { cpu: -2 } } }), want: [/spec\.resources\.cpu/] },
    'session with memory "-1Gi"': { obj: () => ({ ...session(), spec: { ...session().spec, resources: { memory: '-1Gi' } } }), want: [/spec\.resources\.memory/] },
    'session with zero cpu': { obj: () => ({ ...session(), spec: { ...session().spec, resources: { cpu: '0' } } }), want: [/spec\.resources\.cpu/, /positive quantity/] },
    'session with zero GPUs': { obj: () => ({ ...session(), spec: { ...session().spec, resources: { gpu: { flavour: 'a100', count: 0 } } } }), want: [/spec\.resources\.gpu\.count/] },
    'jupyter session with desktop settings': { obj: () => ({ ...session(), spec: { ...session().spec, desktop: { protocol: 'vnc' } } }), want: [/spec\.desktop/, /only for spec\.type: desktop/] },
    'desktop with an unknown protocol': { obj: () => ({ ...session(), spec: { ...session().spec, type: 'desktop', desktop: { protocol: 'rdp' } } }), want: [/spec\.desktop\.protocol/, /"vnc", "guacamole"/] },
    'session with a bad lifetime': { obj: () => ({ ...session(), spec: { ...session().spec, lifetime: 'forever' } }), want: [/spec\.lifetime/] },
    'session named with a leading digit': { obj: () => ({ ...session(), metadata: { name: '1-notebook' } }), want: [/metadata\.name/, /DNS-1035/] },
    'session name too long for its pod': { obj: () => ({ ...session(), metadata: { name: 'a'.repeat(41) } }), want: [/metadata\.name/, /at most 40/] },
    'session with an unknown state': { obj: () => ({ ...session(), spec: { ...session().spec, state: 'Paused' } }), want: [/spec\.state/, /"Running", "Stopped"/] },
    'session template from plain http': { obj: () => ({ ...session(), spec: { ...session().spec, template: { git: { url: 'http://example.org/x.git' } } } }), want: [/spec\.template\.git\.url/] },
    'dataset with two sources': { obj: () => { const o = dataset(); o.spec.source.pvc = { claimName: 'x' }; return o; }, want: [/spec\.source/, /exactly one of nfs, hostPath, pvc or csi/] },
    'dataset with no source': { obj: () => { const o = dataset(); o.spec.source = {}; return o; }, want: [/spec\.source/, /exactly one/] },
    'dataset path with ..': { obj: () => { const o = dataset(); o.spec.source.nfs.path = '/exp/../etc'; return o; }, want: [/spec\.source\.nfs\.path/, /'\.\.'/] },
    'dataset with a relative path': { obj: () => { const o = dataset(); o.spec.source.nfs.path = 'exp/raw'; return o; }, want: [/spec\.source\.nfs\.path/] },
    'dataset mounted over /etc': { obj: () => ({ ...dataset(), spec: { ...dataset().spec, mountPath: '/etc/ssl' } }), want: [/spec\.mountPath/, /system directory/] },
    'dataset without read groups': { obj: () => ({ ...dataset(), spec: { ...dataset().spec, access: { readGroups: [] } } }), want: [/spec\.access\.readGroups/] },
    'read-only dataset with writableUntil': { obj: () => ({ ...dataset(), spec: { ...dataset().spec, writableUntil: '2027-01-01T00:00:00Z' } }), want: [/spec\.writableUntil/, /readOnly: false/] },
    'writable dataset without writers': { obj: () => ({ ...dataset(), spec: { ...dataset().spec, readOnly: false } }), want: [/spec\.readOnly/, /writeGroups/] },
    'quota with negative sessions': { obj: () => ({ ...quota(), spec: { hard: { sessions: -1 } } }), want: [/spec\.hard\.sessions/] },
    'quota window ending before it starts': { obj: () => ({ ...quota(), spec: { windows: [{ name: 'beamtime', start: '2026-12-10T00:00:00Z', end: '2026-12-01T00:00:00Z' }] } }), want: [/spec\.windows\[0\]\.end/, /after/] },
    'quota with overlapping windows': {
      obj: () => ({ ...quota(), spec: { windows: [{ name: 'a', start: '2026-12-01T00:00:00Z', end: '2026-12-10T00:00:00Z' }, { name: 'b', start: '2026-12-05T00:00:00Z', end: '2026-12-20T00:00:00Z' }] } }),
      want: [/spec\.windows/, /must not overlap/],
    },
    'quota with an unknown onExceeded': { obj: () => ({ ...quota(), spec: { onExceeded: 'Drop' } }), want: [/spec\.onExceeded/, /"Queue", "Reject"/] },
    'quota with a bad memory quantity': { obj: () => ({ ...quota(), spec: { hard: { memory: '64 gigs' } } }), want: [/spec\.hard\.memory/] },
    'quota with a maxSessionDuration of 30s': { obj: () => quotaWith({ maxSessionDuration: '30s' }), want: [/spec\.hard\.maxSessionDuration/, /at least one minute/] },
    'quota with a maxSessionDuration of 0m': { obj: () => quotaWith({ maxSessionDuration: '0m' }), want: [/spec\.hard\.maxSessionDuration/, /at least one minute/] },
    'quota window with a maxSessionDuration of 59s': {
      obj: () => ({ ...quota(), spec: { windows: [{ name: 'beamtime', start: '2026-12-01T00:00:00Z', end: '2026-12-10T00:00:00Z', hard: { maxSessionDuration: '59s' } }] } }),
      want: [/spec\.windows\[0\]\.hard\.maxSessionDuration/, /at least one minute/],
    },
    'quota with negative GPU-hours': { obj: () => ({ ...quota(), spec: { budgets: { gpuHours: -5 } } }), want: [/spec\.budgets\.gpuHours/, /greater than or equal to 0/] },
    'quota with an unknown onExhausted': { obj: () => ({ ...quota(), spec: { budgets: { gpuHours: 100, onExhausted: 'Kill' } } }), want: [/spec\.budgets\.onExhausted/, /"Warn", "Stop"/] },
  };

  it.each(Object.entries(invalid))('refuse a %s, naming the field', async (_name, { obj, want }) => {
    const o = obj();
    o.metadata = { ...o.metadata, name: o.metadata.name ?? 'x' };
    let message = '';
    try {
      await createIn(o);
    } catch (err) {
      message = apiErrorMessage(err);
    }
    expect(message, 'the apiserver accepted it').not.toBe('');
    for (const re of want) expect(message).toMatch(re);
  });

  it('accept a maxSessionDuration of one minute or more', async () => {
    const accepted: Array<[string, string]> = [['one-minute', '1m'], ['ninety-seconds', '90s'], ['hour-and-a-half', '1h30m']];
    for (const [name, maxSessionDuration] of accepted) {
      await createIn({ ...quotaWith({ maxSessionDuration }), metadata: { name } });
      const live = await objects().read({ apiVersion: 'panalysis.io/v1alpha1', kind: 'ResourceQuota', metadata: { name, namespace: ns } });
      expect((live as Obj).spec.hard.maxSessionDuration).toBe(maxSessionDuration);
    }
  });

  it('refuse changing the spec of a usage record', async () => {
    await createIn(usageRecord());
    expect(await kubectl('get', 'pusage', '-n', ns)).toMatch(/columns-nb-1\s+20231234\s+alice\s+columns-nb\s+1\s/);
    let message = '';
    try {
      await objects().patch({ apiVersion: 'panalysis.io/v1alpha1', kind: 'UsageRecord', metadata: { name: 'columns-nb-1', namespace: ns }, spec: { gpuSeconds: 0 } } as never, undefined, undefined, 'test', undefined, 'application/merge-patch+json' as never);
    } catch (err) {
      message = apiErrorMessage(err);
    }
    expect(message).toMatch(/spec is immutable/);
    const live = await objects().read({ apiVersion: 'panalysis.io/v1alpha1', kind: 'UsageRecord', metadata: { name: 'columns-nb-1', namespace: ns } });
    expect((live as Obj).spec.gpuSeconds).toBe(7200);
  });

  it('refuse changing spec.user of a session', async () => {
    const o = session();
    o.metadata.name = 'immutable-user';
    await createIn(o);
    let message = '';
    try {
      await objects().patch({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: ns }, spec: { user: 'mallory' } } as never, undefined, undefined, 'test', undefined, 'application/merge-patch+json' as never);
    } catch (err) {
      message = apiErrorMessage(err);
    }
    expect(message).toMatch(/spec\.user cannot change/);
  });
});
