// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { judgePod, podDiffers, repairOf, RESTART_PENDING, restartPendingEntry } from './drift.ts';
import type { KubeObject } from '../../runtime/resource.ts';
import { demoConfig, makeSession } from '../../../test/fixtures/session.ts';
import { partsOf, POD_INPUTS, requestHash } from '../../desired/pod-inputs.ts';
import type { SessionInputs } from '../../desired/session-inputs.ts';
import { buildSessionPod } from '../../desired/session-pod.ts';

const meta = { name: 'nb', namespace: 'p', labels: { 'panalysis.io/session': 'nb' } };
const service = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: meta, spec } as KubeObject);
/** A Service as an older version built it for a session. */
const oldService = service({ type: 'ClusterIP', selector: { 'panalysis.io/session': 'nb' }, ports: [{ name: 'http', port: 8888, targetPort: 8888, protocol: 'TCP' }] });

const np = (ingress: unknown[], egress: unknown[] = []): KubeObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta, spec: { podSelector: { matchLabels: { 'panalysis.io/session': 'nb' } }, policyTypes: ['Ingress', 'Egress'], ingress, egress } } as KubeObject);
const gatewayRule = { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'panalysis-system' } } }], ports: [{ port: 8888, protocol: 'TCP' }] };

describe('repairOf: exact comparison of children', () => {
  it('never compares a Service (a session has none; one left by an older version goes with the session)', () => {
    expect(repairOf(oldService, service({ type: 'NodePort', selector: { app: 'mine' } }))).toBeUndefined();
  });

  it('replaces a NetworkPolicy keeping the live resourceVersion and uid, without managedFields', () => {
    const live = { ...np([gatewayRule, { from: [{ podSelector: {} }] }]), metadata: { ...meta, uid: 'u1', resourceVersion: '42', managedFields: [{ manager: 'x' }] } } as KubeObject;
    const repair = repairOf(np([gatewayRule]), live) as { metadata: Record<string, unknown> };
    expect(repair.metadata).toMatchObject({ resourceVersion: '42', uid: 'u1' });
    expect(repair.metadata.managedFields).toBeUndefined();
  });

  it('replaces a NetworkPolicy with an extra rule added by hand, and leaves an equal one alone', () => {
    expect(repairOf(np([gatewayRule]), np([gatewayRule]))).toBeUndefined();
    expect(repairOf(np([gatewayRule], []), { ...np([gatewayRule]), spec: { ...(np([gatewayRule]) as { spec: object }).spec, egress: undefined } } as KubeObject)).toBeUndefined();
    const widened = np([gatewayRule, { from: [{ podSelector: {} }] }]);
    expect((repairOf(np([gatewayRule]), widened) as { spec: unknown }).spec).toEqual((np([gatewayRule]) as { spec: unknown }).spec);
    const extraLabel = np([{ ...gatewayRule, from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'panalysis-system', extra: 'x' } } }] }]);
    expect(repairOf(np([gatewayRule]), extraLabel)).toBeDefined();
  });

  it('replaces a Secret whose data was changed or extended, and never compares claims', () => {
    const secret = (data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: meta, data } as KubeObject);
    expect(repairOf(secret({ token: 'YQ==' }), secret({ token: 'YQ==' }))).toBeUndefined();
    expect((repairOf(secret({ token: 'YQ==' }), secret({ token: 'Yg==', extra: 'eA==' })) as { data: unknown }).data).toEqual({ token: 'YQ==' });
    const claim = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta, spec: { resources: { requests: { storage: '10Gi' } } } } as KubeObject;
    expect(repairOf(claim, { ...claim, spec: { resources: { requests: { storage: '20Gi' } } } } as KubeObject)).toBeUndefined();
  });

  it('sees an image edited by hand or an in-place resize of a running pod, not a rewritten quantity', () => {
    const pod = (image: string, cpu: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: meta, spec: { containers: [{ name: 'jupyter', image, resources: { requests: { cpu, memory: '8Gi' }, limits: { cpu, memory: '8Gi' } } }] } } as KubeObject);
    expect(podDiffers(pod('a', '1.5'), pod('a', '1500m'))).toBe(false);
    expect(podDiffers(pod('a', '2'), pod('evil', '2'))).toBe(true);
    expect(podDiffers(pod('a', '2'), pod('a', '100m'))).toBe(true);
  });
});

describe('judgePod: what replaces a running pod', () => {
  const config = demoConfig();
  const base = (): SessionInputs => ({
    session: makeSession('nb').obj(),
    profile: config.profiles[0]!,
    gpuCount: 0,
    cpu: '2',
    memory: '8Gi',
    runAs: { user: 'alice', uid: 20001, gid: 20001, supplementalGroups: [30001, 100] },
    geometry: '1920x1080',
    gateway: { namespace: 'panalysis-system', podLabels: {} },
    egress: { mode: 'Restricted', dns: true, allow: [] },
    images: config.images,
    home: { size: '10Gi' },
    datasets: [{ name: 'raw', claimName: 'dataset-raw', mountPath: '/data/raw', readOnly: false }],
  });
  /** The pod as the apiserver returns it (a copy, with a uid). */
  const live = (i: SessionInputs): KubeObject => ({ ...structuredClone(buildSessionPod(i)), metadata: { ...structuredClone(buildSessionPod(i).metadata), uid: 'p1' } } as KubeObject);
  const judge = (built: SessionInputs, now: SessionInputs) => judgePod(buildSessionPod(now) as KubeObject, live(built));

  it('keeps a pod built from the same inputs', () => {
    expect(judge(base(), base())).toEqual({ replace: false });
  });

  it('keeps a pod the operator would now render differently, and says what differs', () => {
    const now = base();
    now.profile = { ...now.profile, command: ['start-notebook.sh'] };
    now.images = { ...now.images, websockify: 'other' };
    const v = judge(base(), now);
    expect(v).toMatchObject({ replace: false });
    expect(v.replace === false && v.pending).toMatch(/differs in containers\.jupyter; the change applies at the next start/);
    const image = base();
    image.profile = { ...image.profile, image: 'localhost/panalysis/jupyterlab:4.7.0' };
    expect(judge(base(), image)).toMatchObject({ replace: false, pending: expect.stringMatching(/containers\.jupyter/) });
    const defaults = base();
    defaults.cpu = '4';
    expect(judge(base(), defaults).replace).toBe(false);
  });

  it('judges a pod built without its record as the recorded one when given its inputs, and hashes its parts only when the specs differ', () => {
    const lazy = (built: SessionInputs, now: SessionInputs) => {
      let hashed = 0;
      const pod = buildSessionPod(now, { record: false });
      expect(pod.metadata?.annotations?.[POD_INPUTS]).toBeUndefined();
      const verdict = judgePod(pod as KubeObject, live(built), { request: requestHash(now.session.spec), parts: () => { hashed += 1; return partsOf(pod.spec!); } });
      return { verdict, hashed };
    };
    expect(lazy(base(), base())).toEqual({ verdict: judge(base(), base()), hashed: 0 });
    const now = base();
    now.profile = { ...now.profile, command: ['start-notebook.sh'] };
    expect(lazy(base(), now)).toEqual({ verdict: judge(base(), now), hashed: 1 });
    const revoked = base();
    revoked.datasets = [];
    expect(lazy(base(), revoked)).toEqual({ verdict: judge(base(), revoked), hashed: 0 });
    expect(() => judgePod(buildSessionPod(base(), { record: false }) as KubeObject, live(base()))).toThrow(/no panalysis.io\/pod-inputs record/);
  });

  it.each([
    ['a user change of resources', (i: SessionInputs) => { i.session.spec.resources = { cpu: '4' }; i.cpu = '4'; }, /request changed/],
    ['a user change of the recipe', (i: SessionInputs) => { i.session.spec.template = { recipe: 'xas-basics' }; i.recipe = config.recipes[0]; }, /request changed/],
    ['a write window closing (dataset read-only)', (i: SessionInputs) => { i.datasets = [{ ...i.datasets[0]!, readOnly: true }]; }, /identity or data access/],
    ['a dataset whose access was revoked', (i: SessionInputs) => { i.datasets = []; }, /identity or data access/],
    ['a group taken away', (i: SessionInputs) => { i.runAs = { ...i.runAs, supplementalGroups: [100] }; }, /identity or data access/],
  ])('replaces the pod for %s', (_what, change, why) => {
    const now = base();
    change(now);
    expect(judge(base(), now)).toMatchObject({ replace: true, why: expect.stringMatching(why) });
  });

  it('replaces a pod whose image or resources were changed by hand, and not for a rewritten quantity', () => {
    const tampered = live(base()) as unknown as { spec: { containers: Array<{ image: string; resources: { limits: Record<string, string> } }> } };
    tampered.spec.containers[0]!.image = 'evil';
    expect(judgePod(buildSessionPod(base()) as KubeObject, tampered as unknown as KubeObject)).toMatchObject({ replace: true, why: expect.stringMatching(/by hand/) });
    const rewritten = live(base()) as unknown as typeof tampered;
    rewritten.spec.containers[0]!.resources.limits.cpu = '2000m';
    expect(judgePod(buildSessionPod(base()) as KubeObject, rewritten as unknown as KubeObject)).toEqual({ replace: false });
  });

  it('judges a pod of an older operator (no inputs record) by its images, resources and security only', () => {
    const old = live(base()) as { metadata: { annotations: Record<string, string> } };
    delete old.metadata.annotations[POD_INPUTS];
    const now = base();
    now.profile = { ...now.profile, command: ['start-notebook.sh'] };
    expect(judgePod(buildSessionPod(now) as KubeObject, old as unknown as KubeObject)).toMatchObject({ replace: false, pending: expect.stringMatching(/differs from what the operator builds now/) });
    const ro = base();
    ro.datasets = [{ ...ro.datasets[0]!, readOnly: true }];
    expect(judgePod(buildSessionPod(ro) as KubeObject, old as unknown as KubeObject).replace).toBe(true);
  });

  it('sets RestartPending while a difference waits, and clears it once the pod is current', () => {
    const pending = { replace: false as const, pending: 'The running pod differs in volumes; ...' };
    expect(restartPendingEntry([], pending)).toEqual([[RESTART_PENDING, { status: 'True', reason: 'ConfigurationChanged', message: pending.pending }]]);
    expect(restartPendingEntry([{ type: RESTART_PENDING, status: 'True' }], { replace: false })).toEqual([[RESTART_PENDING, expect.objectContaining({ status: 'False', reason: 'UpToDate' })]]);
    expect(restartPendingEntry([{ type: RESTART_PENDING, status: 'True' }], undefined)).toEqual([[RESTART_PENDING, expect.objectContaining({ status: 'False' })]]);
    expect(restartPendingEntry([], { replace: false })).toEqual([]);
  });
});
