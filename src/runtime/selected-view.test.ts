// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import type { KubeObject, ResourceType } from './resource.ts';
import { SelectedView, matchesLabels, parseLabelSelector } from './selected-view.ts';
import { MemoryStore, type ChangeType } from './store.ts';

const PVC: ResourceType = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', namespaced: true };
const claim = (name: string, rv: string, labels?: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'ns', resourceVersion: rv, labels } });

describe('parseLabelSelector', () => {
  it('reads equality-based selectors', () => {
    expect(parseLabelSelector('a=b, c==d,e!=f,g,!h')).toEqual([
      { key: 'a', op: '=', value: 'b' },
      { key: 'c', op: '=', value: 'd' },
      { key: 'e', op: '!=', value: 'f' },
      { key: 'g', op: 'exists' },
      { key: 'h', op: 'absent' },
    ]);
  });

  it('gives up on set-based selectors and anything unclear', () => {
    expect(parseLabelSelector('env in (a,b)')).toBeUndefined();
    expect(parseLabelSelector('env notin (a)')).toBeUndefined();
    expect(parseLabelSelector('a=b=c')).toBeUndefined();
    expect(parseLabelSelector('')).toBeUndefined();
  });
});

describe('matchesLabels', () => {
  const reqs = parseLabelSelector('app=x,tier!=db,owned,!skip')!;
  it.each([
    [{ app: 'x', owned: '' }, true],
    [{ app: 'x', owned: '', tier: 'web' }, true],
    [{ app: 'x', owned: '', tier: 'db' }, false],
    [{ app: 'x' }, false],
    [{ app: 'x', owned: '', skip: '1' }, false],
    [undefined, false],
  ])('%j → %s', (labels, want) => expect(matchesLabels(reqs, labels)).toBe(want));
});

describe('SelectedView', () => {
  function setup() {
    const parentStore = new MemoryStore<KubeObject>();
    const parent = { spec: { resource: PVC }, store: parentStore, stats: { lists: 0, watches: 0, relistsAfterGone: 0, watchdogRestarts: 0, errors: 0 }, start: () => undefined, stop: async () => undefined, waitForSync: async () => true, hasSynced: () => parentStore.hasSynced() };
    const view = new SelectedView<KubeObject>({ resource: PVC, labelSelector: 'mine=yes' }, parseLabelSelector('mine=yes')!);
    const seen: Array<[ChangeType, string, string | undefined]> = [];
    view.store.onChange((type, obj) => seen.push([type, obj.metadata?.name ?? '', obj.metadata?.resourceVersion]));
    return { parentStore, parent, view, seen };
  }

  it('is empty before it is bound, then shows only matching objects of its parent', () => {
    const { parentStore, parent, view } = setup();
    parentStore.replace([claim('a', '1', { mine: 'yes' }), claim('b', '1')]);
    expect(view.store.list()).toEqual([]);
    expect(view.hasSynced()).toBe(false);
    view.bind(parent);
    expect(view.hasSynced()).toBe(true);
    expect(view.store.list('ns').map((o) => o.metadata?.name)).toEqual(['a']);
    expect(view.store.keys()).toEqual(['ns/a']);
    expect(view.store.get('ns', 'b')).toBeUndefined();
    expect(view.store.get('ns', 'a')?.metadata?.name).toBe('a');
  });

  it('reports objects entering and leaving the selection as ADDED and DELETED, to listeners registered before bind', () => {
    const { parentStore, parent, view, seen } = setup();
    view.bind(parent);
    parentStore.apply('ADDED', claim('a', '1'));
    parentStore.apply('MODIFIED', claim('a', '2', { mine: 'yes' }));
    parentStore.apply('MODIFIED', claim('a', '3', { mine: 'yes' }));
    parentStore.apply('MODIFIED', claim('a', '4'));
    parentStore.apply('MODIFIED', claim('a', '5', { mine: 'yes' }));
    parentStore.apply('DELETED', claim('a', '5', { mine: 'yes' }));
    parentStore.apply('ADDED', claim('b', '6'));
    parentStore.apply('DELETED', claim('b', '6'));
    expect(seen).toEqual([
      ['ADDED', 'a', '2'],
      ['MODIFIED', 'a', '3'],
      ['DELETED', 'a', '3'],
      ['ADDED', 'a', '5'],
      ['DELETED', 'a', '5'],
    ]);
  });
});
