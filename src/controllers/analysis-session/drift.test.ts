// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { podDiffers, repairOf } from './drift.ts';
import type { KubeObject } from '../../runtime/resource.ts';

const meta = { name: 'nb', namespace: 'p', labels: { 'panalysis.io/session': 'nb' } };
const service = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: meta, spec } as KubeObject);
const desiredService = service({ type: 'ClusterIP', selector: { 'panalysis.io/session': 'nb' }, ports: [{ name: 'http', port: 8888, targetPort: 8888, protocol: 'TCP' }] });
/** As the apiserver returns it: allocated and defaulted fields, metadata it manages. */
const liveService = (extra: Record<string, unknown> = {}): KubeObject => ({
  ...desiredService,
  metadata: { ...meta, uid: 'u1', resourceVersion: '42', managedFields: [{ manager: 'x' }] },
  spec: { ...(desiredService as { spec: object }).spec, clusterIP: '10.0.0.7', clusterIPs: ['10.0.0.7'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster', ...extra },
} as KubeObject);

const np = (ingress: unknown[], egress: unknown[] = []): KubeObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta, spec: { podSelector: { matchLabels: { 'panalysis.io/session': 'nb' } }, policyTypes: ['Ingress', 'Egress'], ingress, egress } } as KubeObject);
const gatewayRule = { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'panalysis-system' } } }], ports: [{ port: 8888, protocol: 'TCP' }] };

describe('repairOf: exact comparison of children', () => {
  it('leaves a Service alone that differs only in allocated and defaulted fields', () => {
    expect(repairOf(desiredService, liveService())).toBeUndefined();
  });

  it.each([
    ['an extra selector key', { selector: { 'panalysis.io/session': 'nb', app: 'mine' } }],
    ['another selector', { selector: { app: 'mine' } }],
    ['an extra port', { ports: [{ name: 'http', port: 8888, targetPort: 8888, protocol: 'TCP' }, { name: 'x', port: 22, targetPort: 22, protocol: 'TCP' }] }],
    ['a NodePort type', { type: 'NodePort' }],
    ['external IPs', { externalIPs: ['192.0.2.1'] }],
  ])('replaces a Service with %s, keeping its cluster IP and resourceVersion', (_what, change) => {
    const repair = repairOf(desiredService, liveService(change)) as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    expect(repair.spec).toEqual({ ...(desiredService as { spec: object }).spec, clusterIP: '10.0.0.7', clusterIPs: ['10.0.0.7'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' });
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
