// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Interner, slimObject, slimPod } from './cache-transform.ts';
import type { KubeObject } from './resource.ts';

const pod = (name: string): KubeObject & { spec: unknown; status: unknown } => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'ns', labels: { app: 'x', session: name }, annotations: { 'panalysis.io/applied-hash': 'h' } },
  spec: {
    containers: [{ name: 'c', image: 'quay.io/jupyter/scipy-notebook:1', securityContext: { capabilities: { drop: ['ALL'] } } }],
    tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
  },
  status: {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z', lastProbeTime: null }],
    containerStatuses: [{ name: 'c', image: 'i', imageID: 'sha256:1', ready: true, restartCount: 0, state: { running: {} }, lastState: {}, volumeMounts: [{ name: 'home' }] }],
    hostIP: '127.0.0.1',
    hostIPs: [{ ip: '127.0.0.1' }],
    podIP: '10.0.0.1',
    podIPs: [{ ip: '10.0.0.1' }],
    qosClass: 'Guaranteed',
    startTime: '2026-01-01T00:00:00Z',
  },
});

describe('slimPod', () => {
  it('drops only the status fields nothing reads', () => {
    const p = pod('a');
    const slim = slimPod(p) as typeof p;
    expect(slim.spec).toBe(p.spec);
    expect(slim.metadata).toBe(p.metadata);
    expect(slim.status).toEqual({
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z', lastProbeTime: null }],
      containerStatuses: [{ name: 'c', image: 'i', imageID: 'sha256:1', ready: true, restartCount: 0, state: { running: {} } }],
    });
    expect(p.status).toHaveProperty('podIP');
  });

  it('returns other kinds and pods without status as they are', () => {
    const claim = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'c' }, status: { podIP: 'kept' } };
    expect(slimPod(claim)).toBe(claim);
    const bare = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } };
    expect(slimPod(bare)).toBe(bare);
  });
});

describe('Interner', () => {
  it('shares equal small parts and strings across objects, frozen, keeping key order', () => {
    const interner = new Interner();
    const a = interner.intern(pod('a'));
    const b = interner.intern(pod('b'));
    expect(a).toEqual(pod('a'));
    expect(Object.keys(a.metadata!)).toEqual(Object.keys(pod('a').metadata!));
    const tolerations = (o: typeof a) => (o.spec as { tolerations: unknown }).tolerations;
    expect(tolerations(a)).toBe(tolerations(b));
    expect(Object.isFrozen(tolerations(a))).toBe(true);
    expect(a.metadata?.labels).not.toBe(b.metadata?.labels);
  });

  it('does not share parts that differ only in key order', () => {
    const interner = new Interner();
    const x = interner.intern({ p: { a: 1, b: 2 } });
    const y = interner.intern({ p: { b: 2, a: 1 } });
    expect(Object.keys(y.p)).toEqual(['b', 'a']);
    expect(x.p).not.toBe(y.p);
  });

  it('does not change its input and keeps parts larger than the limit unshared', () => {
    const interner = new Interner({ maxPartLength: 20 });
    const input = { big: { text: 'a long string over twenty characters' } };
    const x = interner.intern(input);
    const y = interner.intern(structuredClone(input));
    expect(x.big).not.toBe(y.big);
    expect(Object.isFrozen(input)).toBe(false);
    expect(Object.isFrozen(input.big)).toBe(false);
  });

  it('empties its tables beyond maxEntries', () => {
    const interner = new Interner({ maxEntries: 10 });
    for (let i = 0; i < 20; i++) interner.intern({ name: `n${i}` });
    expect(interner.size).toBeLessThanOrEqual(12);
  });

  it('keeps a "__proto__" key as a member', () => {
    const input = JSON.parse('{"a":{"__proto__":null,"b":1}}') as unknown;
    expect(JSON.stringify(new Interner({ maxPartLength: 64 }).intern(input))).toBe('{"a":{"__proto__":null,"b":1}}');
  });

  it('returns a value deeply equal to any JSON input', () => {
    const interner = new Interner({ maxPartLength: 64 });
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      const input = JSON.parse(JSON.stringify(v)) as unknown;
      expect(JSON.stringify(interner.intern(input))).toBe(JSON.stringify(input));
    }));
  });
});

describe('slimObject', () => {
  it('slims pods and interns every kind through one table', () => {
    const transform = slimObject();
    const p = transform(pod('a'));
    expect(p.status).not.toHaveProperty('podIP');
    const claim = transform({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'c', labels: { app: 'x' } } });
    expect(claim.apiVersion).toBe('v1');
  });
});
