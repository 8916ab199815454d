// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { apiGroup, controllerReference, keyOf, objectKey, parseKey, resourcePath, type ResourceType } from './resource.ts';

const PODS: ResourceType = { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };
const NODES: ResourceType = { apiVersion: 'v1', kind: 'Node', plural: 'nodes', namespaced: false };
const SESSIONS: ResourceType = { apiVersion: 'panalysis.example/v1alpha1', kind: 'AnalysisSession', plural: 'analysissessions', namespaced: true };

describe('resourcePath', () => {
  const cases: Record<string, { args: Parameters<typeof resourcePath>; want: string }> = {
    'core collection, all namespaces': { args: [PODS], want: '/api/v1/pods' },
    'core object': { args: [PODS, 'ns', 'p'], want: '/api/v1/namespaces/ns/pods/p' },
    'cluster-scoped ignores the namespace': { args: [NODES, 'ns', 'n1'], want: '/api/v1/nodes/n1' },
    'group subresource': { args: [SESSIONS, 'ns', 's', 'status'], want: '/apis/panalysis.example/v1alpha1/namespaces/ns/analysissessions/s/status' },
    'names are escaped': { args: [PODS, 'ns', 'a/b'], want: '/api/v1/namespaces/ns/pods/a%2Fb' },
  };
  for (const [name, { args, want }] of Object.entries(cases)) it(name, () => expect(resourcePath(...args)).toBe(want));
});

describe('keys', () => {
  it('round-trips namespaced and cluster-scoped keys', () => {
    expect(parseKey(objectKey('ns', 'a'))).toEqual({ namespace: 'ns', name: 'a' });
    expect(parseKey(objectKey(undefined, 'node-1'))).toEqual({ namespace: undefined, name: 'node-1' });
    expect(keyOf({ metadata: { namespace: 'ns', name: 'a' } })).toBe('ns/a');
  });

  it('reads the API group', () => {
    expect(apiGroup('v1')).toBe('');
    expect(apiGroup('apps/v1')).toBe('apps');
  });
});

describe('controllerReference', () => {
  it('marks the owner as controller and blocks its deletion', () => {
    const owner = { apiVersion: SESSIONS.apiVersion, kind: SESSIONS.kind, metadata: { name: 's', namespace: 'ns', uid: 'u1' } };
    expect(controllerReference(owner)).toEqual({ apiVersion: SESSIONS.apiVersion, kind: 'AnalysisSession', name: 's', uid: 'u1', controller: true, blockOwnerDeletion: true });
  });

  it('refuses an owner without uid', () => {
    expect(() => controllerReference({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } })).toThrow(TypeError);
  });
});
