// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import type { KubeObject } from './resource.ts';
import { MemoryStore, type ChangeType } from './store.ts';

function pod(name: string, rv: string, namespace: string | null = 'ns'): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: namespace ?? undefined, resourceVersion: rv } };
}

function recorded(store: MemoryStore<KubeObject>): Array<[ChangeType, string, string | undefined]> {
  const seen: Array<[ChangeType, string, string | undefined]> = [];
  store.onChange((type, obj) => seen.push([type, obj.metadata?.name ?? '', obj.metadata?.resourceVersion]));
  return seen;
}

describe('MemoryStore', () => {
  it('strips managedFields and freezes what it keeps', () => {
    const store = new MemoryStore<KubeObject>();
    store.apply('ADDED', { ...pod('a', '1'), metadata: { name: 'a', namespace: 'ns', managedFields: [{}] } });
    const kept = store.get('ns', 'a');
    expect(kept?.metadata).not.toHaveProperty('managedFields');
    expect(Object.isFrozen(kept?.metadata)).toBe(true);
  });

  it('emits MODIFIED only when the resourceVersion changed', () => {
    const store = new MemoryStore<KubeObject>();
    const seen = recorded(store);
    store.apply('ADDED', pod('a', '1'));
    store.apply('MODIFIED', pod('a', '1'));
    store.apply('ADDED', pod('a', '2'));
    store.apply('DELETED', pod('a', '3'));
    store.apply('DELETED', pod('a', '3'));
    expect(seen).toEqual([
      ['ADDED', 'a', '1'],
      ['MODIFIED', 'a', '2'],
      ['DELETED', 'a', '2'],
    ]);
  });

  it('turns a relist into ADDED, MODIFIED and DELETED events, after the whole list is in place', () => {
    const store = new MemoryStore<KubeObject>();
    store.replace([pod('same', '1'), pod('changed', '1'), pod('gone', '1')]);
    expect(store.hasSynced()).toBe(true);
    const seen: Array<[ChangeType, string, number]> = [];
    store.onChange((type, obj) => seen.push([type, obj.metadata?.name ?? '', store.keys().length]));
    store.replace([pod('same', '1'), pod('changed', '2'), pod('new', '5')]);
    expect(seen).toEqual([
      ['MODIFIED', 'changed', 3],
      ['ADDED', 'new', 3],
      ['DELETED', 'gone', 3],
    ]);
  });

  it('lists by namespace and keys cluster-scoped objects by name', () => {
    const store = new MemoryStore<KubeObject>();
    store.replace([pod('a', '1', 'x'), pod('b', '1', 'y'), pod('node', '1', null)]);
    expect(store.list('x').map((o) => o.metadata?.name)).toEqual(['a']);
    expect(store.list()).toHaveLength(3);
    expect(store.get(undefined, 'node')?.metadata?.name).toBe('node');
    expect(store.keys().sort()).toEqual(['node', 'x/a', 'y/b']);
  });

  it('keeps its namespace index in step with adds, updates, deletes and relists, in first-added order', () => {
    const store = new MemoryStore<KubeObject>();
    store.replace([pod('a', '1', 'x'), pod('b', '1', 'y'), pod('c', '1', 'x')]);
    store.apply('MODIFIED', pod('a', '2', 'x'));
    store.apply('ADDED', pod('d', '1', 'x'));
    store.apply('DELETED', pod('c', '1', 'x'));
    expect(store.list('x').map((o) => [o.metadata?.name, o.metadata?.resourceVersion])).toEqual([['a', '2'], ['d', '1']]);
    store.replace([pod('d', '1', 'x'), pod('e', '1', 'z')]);
    expect(store.list('x').map((o) => o.metadata?.name)).toEqual(['d']);
    expect(store.list('y')).toEqual([]);
    expect(store.list('z').map((o) => o.metadata?.name)).toEqual(['e']);
    expect(store.list().map((o) => o.metadata?.name)).toEqual(['d', 'e']);
    expect(store.list('')).toEqual([]);
  });

  it('returns a new array from list, so callers may change it', () => {
    const store = new MemoryStore<KubeObject>();
    store.replace([pod('a', '1', 'x')]);
    store.list('x').pop();
    store.list().pop();
    expect(store.list('x')).toHaveLength(1);
  });

  it('keeps notifying when one listener throws, and stops after unsubscribe', () => {
    const store = new MemoryStore<KubeObject>();
    store.onChange(() => {
      throw new Error('boom');
    });
    const seen = recorded(store);
    const off = store.onChange(() => seen.push(['ADDED', 'second', undefined]));
    store.apply('ADDED', pod('a', '1'));
    off();
    store.apply('MODIFIED', pod('a', '2'));
    expect(seen.map(([, name]) => name)).toEqual(['a', 'second', 'a']);
  });
});
