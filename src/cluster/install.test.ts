// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../runtime/resource.ts';
import { platformObjects, PROPOSAL_NAMESPACE_POLICY } from './install.ts';

const policy = (name: string): KubeObject => ({
  apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy',
  metadata: { name, labels: { 'app.kubernetes.io/instance': 'panalysis' } },
  spec: { matchConditions: [{ name: 'chart', expression: 'true' }] },
} as KubeObject);
const manifest: KubeObject[] = [
  policy(PROPOSAL_NAMESPACE_POLICY),
  policy('panalysis-session-user'),
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'panalysis-portal' } },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'panalysis-operator' } },
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'panalysis-operator' } },
];
const conditions = (o: KubeObject | undefined) => (o as { spec: { matchConditions: unknown[] } } | undefined)?.spec.matchConditions;

describe('platformObjects', () => {
  it('keeps the policies and user roles, not the operator', () => {
    expect(platformObjects(manifest, 'kubernetes-admin').map((o) => o.metadata?.name)).toEqual([PROPOSAL_NAMESPACE_POLICY, 'panalysis-session-user', 'panalysis-portal']);
  });

  it('leaves the local operator\'s user alone in proposal namespaces, and only there', () => {
    const [guard, sessionUser] = platformObjects(manifest, 'kubernetes-admin');
    expect(conditions(guard)).toEqual([{ name: 'chart', expression: 'true' }, { name: 'not-the-local-operator', expression: 'request.userInfo.username != "kubernetes-admin"' }]);
    expect(conditions(sessionUser)).toEqual([{ name: 'chart', expression: 'true' }]);
  });

  it('quotes the user name as a CEL string and does not change its input', () => {
    const [guard] = platformObjects(manifest, 'oidc:"x" || true');
    expect(conditions(guard)?.[1]).toEqual({ name: 'not-the-local-operator', expression: 'request.userInfo.username != "oidc:\\"x\\" || true"' });
    expect(conditions(manifest[0])).toHaveLength(1);
    expect(manifest[0]!.metadata?.labels).toEqual({ 'app.kubernetes.io/instance': 'panalysis' });
  });
});
