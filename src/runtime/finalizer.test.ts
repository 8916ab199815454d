// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { done, requeueAfter, type ReconcileResult } from './errors.ts';
import { withFinalizer } from './finalizer.ts';
import type { KubeObject } from './resource.ts';
import { FakeKube } from './testing/fake-kube.ts';

const NAME = 'panalysis.example/quota';
const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'cm' };

function setup(finalizers?: string[]) {
  const kube = new FakeKube();
  kube.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'ns', finalizers } });
  const calls: string[] = [];
  const handlers = {
    apply: async (): Promise<ReconcileResult> => (calls.push('apply'), requeueAfter(60_000)),
    cleanup: async (): Promise<ReconcileResult> => (calls.push('cleanup'), done()),
  };
  const current = async (): Promise<KubeObject> => (await kube.get<KubeObject>(ref))!;
  return { kube, calls, handlers, current };
}

describe('withFinalizer', () => {
  it('adds the finalizer first, without running apply', async () => {
    const { kube, calls, handlers, current } = setup();
    expect(await withFinalizer(kube, NAME, await current(), handlers)).toEqual(done());
    expect(calls).toEqual([]);
    expect((await current()).metadata?.finalizers).toEqual([NAME]);
  });

  it("appends after other controllers' finalizers", async () => {
    const { kube, handlers, current } = setup(['other/one']);
    await withFinalizer(kube, NAME, await current(), handlers);
    expect((await current()).metadata?.finalizers).toEqual(['other/one', NAME]);
  });

  it('runs apply while live and returns its result', async () => {
    const { kube, calls, handlers, current } = setup([NAME]);
    expect(await withFinalizer(kube, NAME, await current(), handlers)).toEqual(requeueAfter(60_000));
    expect(calls).toEqual(['apply']);
    expect(kube.writes.patch).toBe(0);
  });

  it('cleans up on deletion and removes only its own finalizer', async () => {
    const { kube, calls, handlers, current } = setup(['other/one', NAME]);
    await kube.delete(ref);
    await withFinalizer(kube, NAME, await current(), handlers);
    expect(calls).toEqual(['cleanup']);
    expect((await current()).metadata?.finalizers).toEqual(['other/one']);
  });

  it('lets the object go once the last finalizer is removed', async () => {
    const { kube, handlers, current } = setup([NAME]);
    await kube.delete(ref);
    await withFinalizer(kube, NAME, await current(), handlers);
    expect(await kube.get(ref)).toBeUndefined();
  });

  it('fails on a stale view instead of overwriting the finalizer list', async () => {
    const { kube, handlers, current } = setup();
    const stale = await current();
    await kube.jsonPatch(ref, [{ op: 'add', path: '/metadata/finalizers', value: ['other/one'] }]);
    await expect(withFinalizer(kube, NAME, stale, handlers)).rejects.toMatchObject({ code: 422 });
    expect((await current()).metadata?.finalizers).toEqual(['other/one']);
  });

  it('keeps the finalizer when cleanup fails', async () => {
    const { kube, handlers, current } = setup([NAME]);
    await kube.delete(ref);
    const failing = { ...handlers, cleanup: async (): Promise<ReconcileResult> => Promise.reject(new Error('ledger down')) };
    await expect(withFinalizer(kube, NAME, await current(), failing)).rejects.toThrow('ledger down');
    expect((await current()).metadata?.finalizers).toEqual([NAME]);
  });

  it('does nothing for an object being deleted without its finalizer', async () => {
    const { kube, calls, handlers, current } = setup(['other/one']);
    await kube.delete(ref);
    expect(await withFinalizer(kube, NAME, await current(), handlers)).toEqual(done());
    expect(calls).toEqual([]);
    expect(kube.writes.patch).toBe(0);
  });
});
