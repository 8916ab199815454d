// SPDX-License-Identifier: Apache-2.0
import { afterEach, describe, expect, it } from 'vitest';
import type { ListWatchSource, WatchSpec } from './list-watch.ts';
import { noopLogger } from './log.ts';
import { Manager } from './manager.ts';
import type { KubeObject, ResourceType } from './resource.ts';
import type { ChangeType } from './store.ts';
import { FakeClock } from './testing/fake-clock.ts';
import { FakeKube } from './testing/fake-kube.ts';
import { FakeListWatch } from './testing/fake-list-watch.ts';

const SECRETS: ResourceType = { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true };
const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'panalysis.io/proposal': name } } });
const secret = (namespace: string, name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace } });
const forbidden: ListWatchSource<KubeObject> = {
  list: () => Promise.reject(Object.assign(new Error('secrets is forbidden'), { code: 403 })),
  watch: () => Promise.reject(new Error('not listed')),
};

let manager: Manager | undefined;
afterEach(async () => {
  await manager?.stop();
  manager = undefined;
});

function setup() {
  const clock = new FakeClock();
  const namespaces = new FakeListWatch<KubeObject>();
  const perNamespace = new Map<string, FakeListWatch<KubeObject>>();
  const specs: WatchSpec[] = [];
  const secretsIn = (n: string) => perNamespace.get(n) ?? perNamespace.set(n, new FakeListWatch<KubeObject>()).get(n)!;
  manager = new Manager({
    kube: new FakeKube(),
    clock,
    logger: noopLogger,
    random: () => 0,
    namespaceScoped: { plurals: ['secrets'], namespaceSelector: 'panalysis.io/proposal' },
    listWatch: (spec) => {
      specs.push(spec);
      if (spec.resource.kind === 'Namespace') return namespaces;
      if (spec.namespace === 'locked') return forbidden;
      return secretsIn(spec.namespace!);
    },
  });
  return { clock, namespaces, secretsIn, specs, manager };
}

describe('NamespaceFanout through the manager', () => {
  it('watches a namespace-scoped kind only in the selected namespaces, one watch each, never cluster-wide', async () => {
    const w = setup();
    w.namespaces.upsert(ns('p1'));
    w.namespaces.upsert(ns('locked'));
    w.secretsIn('p1').upsert(secret('p1', 'a-credentials'));
    w.secretsIn('elsewhere').upsert(secret('elsewhere', 'not-ours'));
    const source = w.manager.source({ resource: SECRETS, labelSelector: 'app.kubernetes.io/managed-by=panalysis' });
    const seen: Array<[ChangeType, string]> = [];
    source.store.onChange((type, obj) => seen.push([type, `${obj.metadata?.namespace}/${obj.metadata?.name}`]));
    void w.manager.start();
    await w.clock.advance(0);
    await w.clock.advance(0);
    // A namespace where the list is forbidden does not hold readiness back.
    expect(w.manager.isReady()).toBe(true);
    expect(source.store.keys()).toEqual(['p1/a-credentials']);
    expect(source.store.get('p1', 'a-credentials')?.metadata?.name).toBe('a-credentials');
    expect(w.specs.filter((s) => s.resource.kind === 'Secret').map((s) => [s.namespace, s.labelSelector])).toEqual([['p1', 'app.kubernetes.io/managed-by=panalysis'], ['locked', 'app.kubernetes.io/managed-by=panalysis']]);
    expect(w.specs.find((s) => s.resource.kind === 'Namespace')?.labelSelector).toBe('panalysis.io/proposal');

    w.namespaces.upsert(ns('p2'));
    w.secretsIn('p2').upsert(secret('p2', 'b-credentials'));
    for (let i = 0; i < 5; i++) await w.clock.advance(1000);
    expect(source.store.list('p2').map((s) => s.metadata?.name)).toEqual(['b-credentials']);

    w.namespaces.remove(undefined, 'p1');
    await w.clock.advance(0);
    await w.clock.advance(0);
    expect(source.store.list().map((s) => s.metadata?.name)).toEqual(['b-credentials']);
    expect(seen).toEqual([['ADDED', 'p1/a-credentials'], ['ADDED', 'p2/b-credentials'], ['DELETED', 'p1/a-credentials']]);
  });

  it('keeps cluster-wide watches for kinds not listed', () => {
    const w = setup();
    w.manager.source({ resource: { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true } });
    expect(w.specs.map((s) => [s.resource.kind, s.namespace])).toEqual([['Pod', undefined]]);
  });
});
