// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { TtlCache } from './ttl-cache.ts';

function setup(options: { ttlMs?: number; negativeTtlMs?: number; maxEntries?: number } = {}) {
  const clock = { now: 1_000_000 };
  const cache = new TtlCache<string, string>({ ttlMs: options.ttlMs ?? 300_000, negativeTtlMs: options.negativeTtlMs ?? 60_000, maxEntries: options.maxEntries, now: () => clock.now });
  let loads = 0;
  const answers = new Map<string, string | undefined>();
  const load = (key: string) => async () => {
    loads++;
    return answers.get(key);
  };
  return { clock, cache, answers, load, loads: () => loads };
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('TtlCache', () => {
  it('serves a found value until its TTL passes, then loads again', async () => {
    const t = setup();
    t.answers.set('alice', 'v1');
    expect(await t.cache.get('alice', t.load('alice'))).toBe('v1');
    t.answers.set('alice', 'v2');
    t.clock.now += 299_999;
    expect(await t.cache.get('alice', t.load('alice'))).toBe('v1');
    t.clock.now += 1;
    expect(await t.cache.get('alice', t.load('alice'))).toBe('v2');
    expect(t.loads()).toBe(2);
  });

  it('serves "not found" for the shorter negative TTL', async () => {
    const t = setup();
    expect(await t.cache.get('eve', t.load('eve'))).toBeUndefined();
    t.answers.set('eve', 'created');
    t.clock.now += 59_999;
    expect(await t.cache.get('eve', t.load('eve'))).toBeUndefined();
    t.clock.now += 1;
    expect(await t.cache.get('eve', t.load('eve'))).toBe('created');
  });

  it('does not cache when a TTL is 0', async () => {
    const t = setup({ ttlMs: 0, negativeTtlMs: 0 });
    t.answers.set('a', 'x');
    await t.cache.get('a', t.load('a'));
    await t.cache.get('a', t.load('a'));
    await t.cache.get('b', t.load('b'));
    await t.cache.get('b', t.load('b'));
    expect(t.loads()).toBe(4);
    expect(t.cache.size).toBe(0);
  });

  it('shares one load among concurrent gets of a key (single flight)', async () => {
    const t = setup();
    const gate = deferred<string>();
    let loads = 0;
    const load = () => {
      loads++;
      return gate.promise;
    };
    const all = Promise.all([t.cache.get('k', load), t.cache.get('k', load), t.cache.get('k', load)]);
    gate.resolve('v');
    expect(await all).toEqual(['v', 'v', 'v']);
    expect(loads).toBe(1);
  });

  it('gives every concurrent caller the error and caches nothing', async () => {
    const t = setup();
    const gate = deferred<string>();
    const first = t.cache.get('k', () => gate.promise);
    const second = t.cache.get('k', () => gate.promise);
    gate.reject(new Error('directory down'));
    await expect(first).rejects.toThrow('directory down');
    await expect(second).rejects.toThrow('directory down');
    t.answers.set('k', 'back');
    expect(await t.cache.get('k', t.load('k'))).toBe('back');
  });

  it('recovers from a loader that throws synchronously', async () => {
    const t = setup();
    const broken = (): Promise<string> => {
      throw new Error('sync');
    };
    await expect(t.cache.get('k', broken)).rejects.toThrow('sync');
    t.answers.set('k', 'ok');
    expect(await t.cache.get('k', t.load('k'))).toBe('ok');
  });

  it('does not store a load that started before invalidate', async () => {
    const t = setup();
    const gate = deferred<string>();
    const stale = t.cache.get('k', () => gate.promise);
    t.cache.invalidate('k');
    t.answers.set('k', 'fresh');
    const fresh = t.cache.get('k', t.load('k'));
    gate.resolve('stale');
    expect(await stale).toBe('stale');
    expect(await fresh).toBe('fresh');
    expect(await t.cache.get('k', t.load('k'))).toBe('fresh');
    expect(t.loads()).toBe(1);
  });

  it('forgets one key or all keys', async () => {
    const t = setup();
    t.answers.set('a', '1');
    t.answers.set('b', '2');
    await t.cache.get('a', t.load('a'));
    await t.cache.get('b', t.load('b'));
    t.cache.invalidate('a');
    expect(t.cache.size).toBe(1);
    t.cache.invalidate();
    expect(t.cache.size).toBe(0);
  });

  it('drops the oldest entries beyond maxEntries', async () => {
    const t = setup({ maxEntries: 2 });
    for (const k of ['a', 'b', 'c']) {
      t.answers.set(k, k);
      await t.cache.get(k, t.load(k));
    }
    expect(t.cache.size).toBe(2);
    await t.cache.get('a', t.load('a'));
    expect(t.loads()).toBe(4);
  });
});
